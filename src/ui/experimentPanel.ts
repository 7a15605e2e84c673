/**
 * The experiment panel: pick a preset (and its scale) or edit a config — the schema-generated form
 * and the raw JSON editor stay in sync, and every problem shows inline by path — then run, pause,
 * cancel, share the run as a link, and export what was measured (JSON, tidy CSV).
 */
import { experimentJsonSchema } from '../experiments/config';
import { PRESET_CATALOG } from '../experiments/presets/catalog';
import { PRESETS } from '../experiments/presets/index';
import { SCALES, verdictCounts, type PredictionRecord, type Scale } from '../experiments/presets/types';
import { renderConfigForm, type JsonSchema } from './configForm';
import { checkConfigText, type ConfigIssue } from './configValidation';
import { downloadText } from './download';
import { EXAMPLE_CONFIG } from './exampleConfig';
import type { PageRunner } from './pageRunner';
import type { RunSource } from './runState';
import { autorunDecision, decodeShareHash, encodeShareHash } from './shareLink';
import { runJson, tidyRows, toCsv } from './tidyExport';

function $<T extends HTMLElement>(selector: string): T {
  const el = document.querySelector<T>(selector);
  if (!el) throw new Error(`page: ${selector} is missing from index.html`);
  return el;
}

/** "1 disagree, 5 agree, 2 inconclusive": disagreements first, the rest never counted as agreement. */
function verdictSummary(predictions: readonly PredictionRecord[]): string {
  const c = verdictCounts(predictions);
  return [
    `${c.disagrees} disagree`,
    `${c.agrees} agree`,
    ...(c.inconclusive ? [`${c.inconclusive} inconclusive`] : []),
    ...(c.reported ? [`${c.reported} reported`] : []),
  ].join(', ');
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${ms.toFixed(0)} ms` : ms < 120_000 ? `${(ms / 1000).toFixed(1)} s` : `${(ms / 60_000).toFixed(1)} min`;
}

export interface ExperimentPanelOptions {
  runner: PageRunner;
  /** Resolves to whether a GPU device exists (Run stays disabled otherwise). */
  gpuReady: Promise<boolean>;
  /** The environment written into JSON exports. */
  env: () => Promise<unknown>;
}

/** Wires the experiment section of index.html; returns `refresh` to call when the run state changes. */
export function installExperimentPanel({ runner, gpuReady, env }: ExperimentPanelOptions): { refresh(): void } {
  const sourceSelect = $<HTMLSelectElement>('#source-select');
  const scaleSelect = $<HTMLSelectElement>('#scale-select');
  const presetInfo = $<HTMLElement>('#preset-info');
  const configArea = $<HTMLElement>('#config-area');
  const formDiv = $<HTMLElement>('#config-form');
  const editor = $<HTMLTextAreaElement>('#config-json');
  const errorList = $<HTMLUListElement>('#config-errors');
  const runButton = $<HTMLButtonElement>('#run-start');
  const pauseButton = $<HTMLButtonElement>('#run-pause');
  const cancelButton = $<HTMLButtonElement>('#run-cancel');
  const shareLink = $<HTMLAnchorElement>('#share-link');
  const status = $<HTMLElement>('#run-status');
  const progress = $<HTMLProgressElement>('#run-progress');
  const message = $<HTMLElement>('#run-message');
  const exportJson = $<HTMLButtonElement>('#export-json');
  const exportCsv = $<HTMLButtonElement>('#export-csv');
  const presetReport = $<HTMLElement>('#preset-report');
  const runLog = $<HTMLPreElement>('#run-log');
  const schema = experimentJsonSchema() as JsonSchema;
  let gpuOk = false;
  let gpuKnown = false;
  let configValid = false;

  sourceSelect.append(new Option('Custom config (form + JSON)', 'config'));
  for (const [name, info] of Object.entries(PRESET_CATALOG)) {
    if (name in PRESETS) sourceSelect.append(new Option(`Preset ${name}: ${info.title}`, `preset:${name}`));
  }
  // Presets registered by code but not (yet) in the catalog still appear, by name.
  for (const name of Object.keys(PRESETS))
    if (!(name in PRESET_CATALOG)) sourceSelect.append(new Option(`Preset ${name}`, `preset:${name}`));
  for (const s of SCALES) scaleSelect.append(new Option(s, s));

  // The editor's text is checked once per change, not on every progress event of a run.
  let lastCheck: { text: string; check: ReturnType<typeof checkConfigText> } | null = null;
  const checkEditor = () => {
    if (lastCheck?.text !== editor.value) lastCheck = { text: editor.value, check: checkConfigText(editor.value) };
    return lastCheck.check;
  };

  const presetName = () => (sourceSelect.value.startsWith('preset:') ? sourceSelect.value.slice('preset:'.length) : null);

  function currentSource(): RunSource | null {
    const preset = presetName();
    if (preset) return { kind: 'preset', preset, scale: scaleSelect.value as Scale };
    const check = checkEditor();
    return check.ok ? { kind: 'config', config: check.value as never } : null;
  }

  function showIssues(issues: ConfigIssue[]): void {
    errorList.replaceChildren(
      ...issues.map((i) => {
        const li = document.createElement('li');
        li.dataset.path = i.path;
        const code = document.createElement('code');
        code.textContent = i.path;
        li.append(code, `: ${i.message}`);
        return li;
      }),
    );
    errorList.hidden = issues.length === 0;
    editor.classList.toggle('invalid', issues.length > 0);
    for (const input of formDiv.querySelectorAll<HTMLElement>('[data-path]')) {
      input.classList.toggle(
        'invalid',
        issues.some((i) => i.path === input.dataset.path),
      );
    }
  }

  function validate(rerenderForm: boolean): void {
    const check = checkEditor();
    configValid = check.ok;
    if (rerenderForm && check.value !== undefined) renderConfigForm(formDiv, schema, check.value, onFormChange);
    showIssues(check.ok ? [] : check.issues);
    refresh();
  }

  function onFormChange(value: unknown, structural: boolean): void {
    editor.value = JSON.stringify(value, null, 2);
    validate(structural);
  }

  function showPresetInfo(): void {
    const name = presetName();
    configArea.hidden = name !== null;
    scaleSelect.disabled = name === null;
    presetInfo.replaceChildren();
    if (!name) return;
    const info = (PRESET_CATALOG as Record<string, (typeof PRESET_CATALOG)[keyof typeof PRESET_CATALOG]>)[name];
    if (!info) return;
    const scale = info.scales[scaleSelect.value as Scale];
    const p = document.createElement('p');
    p.textContent = `${info.paper}. At ${scaleSelect.value} scale: ${scale.sizes} (${scale.estimate}).`;
    const ul = document.createElement('ul');
    for (const pred of info.predictions) ul.append(Object.assign(document.createElement('li'), { textContent: pred }));
    presetInfo.append(p, ul);
  }

  let debounce: ReturnType<typeof setTimeout> | undefined;
  editor.addEventListener('input', () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => validate(true), 200);
  });
  sourceSelect.addEventListener('change', () => {
    showPresetInfo();
    refresh();
  });
  scaleSelect.addEventListener('change', () => {
    showPresetInfo();
    refresh();
  });

  function start(): void {
    const source = currentSource();
    if (!source || runner.busy) return;
    history.replaceState(null, '', encodeShareHash(source));
    if (source.kind === 'preset') void runner.runPreset(source.preset, source.scale);
    else {
      const check = checkEditor();
      if (check.ok) void runner.runConfig(check.value as never, check.cells);
    }
  }
  runButton.addEventListener('click', start);
  pauseButton.addEventListener('click', () => (runner.state.status === 'paused' ? runner.resume() : runner.pause()));
  cancelButton.addEventListener('click', () => runner.cancel());

  const stem = () => {
    const s = runner.state.source;
    return s?.kind === 'preset'
      ? `${s.preset}-${s.scale}`
      : s?.kind === 'config'
        ? String((s.config as { name?: string }).name ?? 'run')
        : 'run';
  };
  exportJson.addEventListener('click', async () => downloadText(`${stem()}.json`, runJson(runner.state, await env()), 'application/json'));
  exportCsv.addEventListener('click', () => downloadText(`${stem()}.csv`, toCsv(tidyRows(runner.state)), 'text/csv'));

  function showPresetReport(): void {
    const report = runner.state.presetReport;
    if (!report) {
      presetReport.replaceChildren();
      return;
    }
    const table = document.createElement('table');
    table.id = 'prediction-table';
    table.innerHTML = '<tr><th>prediction</th><th>formula</th><th>predicted</th><th>measured</th><th>tolerance</th><th>verdict</th></tr>';
    for (const p of report.predictions) {
      const tr = document.createElement('tr');
      tr.dataset.prediction = p.name;
      const num = (v: number | string) => (typeof v === 'number' ? String(+v.toPrecision(6)) : v);
      for (const v of [
        p.name,
        p.formula,
        num(p.predicted),
        p.ci ? `${p.measured.toPrecision(4)} [${p.ci[0].toPrecision(3)}, ${p.ci[1].toPrecision(3)}]` : p.measured.toPrecision(4),
        p.tolerance,
        `${p.verdict ?? 'disagrees'}${p.why && p.verdict === 'inconclusive' ? ` (${p.why})` : ''}`,
      ]) {
        tr.append(Object.assign(document.createElement('td'), { textContent: v }));
      }
      tr.dataset.verdict = p.verdict ?? 'disagrees';
      if (p.verdict === 'disagrees') tr.className = 'fail';
      table.append(tr);
    }
    presetReport.replaceChildren(
      Object.assign(document.createElement('h3'), { textContent: `Predictions (${report.preset}, ${report.scale})` }),
      table,
    );
  }

  let shownReport: unknown = null;
  function refresh(): void {
    const st = runner.state;
    const busy = runner.busy;
    const source = currentSource();
    runButton.disabled = !gpuOk || busy || !source || (source.kind === 'config' && !configValid);
    const pausable = busy && st.source?.kind === 'config';
    pauseButton.disabled = !pausable;
    pauseButton.textContent = st.status === 'paused' ? 'Resume' : 'Pause';
    cancelButton.disabled = !pausable;
    sourceSelect.disabled = busy;
    if (source) shareLink.href = `${location.pathname}${location.search}${encodeShareHash(source, true)}`;
    shareLink.classList.toggle('disabled', !source);
    const records = st.cells.reduce((n, c) => n + c.records.length, 0);
    exportJson.disabled = records === 0 && !st.presetReport;
    exportCsv.disabled = records === 0 && !st.presetReport;
    const p = st.progress;
    let text: string;
    switch (st.status) {
      case 'idle':
        text = !gpuOk
          ? gpuKnown
            ? 'no GPU device: runs need WebGPU (see the Adapter section above)'
            : 'waiting for a GPU device'
          : source
            ? 'ready'
            : `fix the config first (${errorList.children.length} problem${errorList.children.length === 1 ? '' : 's'} listed under the JSON)`;
        break;
      case 'running':
      case 'paused':
        text =
          st.source?.kind === 'preset'
            ? `running preset${st.presetLog.length ? `: ${st.presetLog[st.presetLog.length - 1]}` : '…'}`
            : p
              ? `${st.status} — cell ${p.cellIndex + 1}/${p.cells} (${p.cell}), step ${p.step}/${p.steps}; ${records} records`
              : `${st.status}…`;
        break;
      case 'done':
        text = st.presetReport
          ? `done: ${st.presetReport.predictions.length} predictions (${verdictSummary(st.presetReport.predictions)}) in ${formatMs(st.presetReport.elapsedMs)}`
          : `done: ${records} records`;
        break;
      case 'cancelled':
        text = `cancelled after ${records} records (kept; exportable)`;
        break;
      default:
        text = st.status;
    }
    status.textContent = text;
    status.dataset.status = st.status;
    if (p && st.source?.kind === 'config') {
      progress.max = p.cells * (p.steps + 1);
      progress.value = p.cellIndex * (p.steps + 1) + p.step + 1;
    } else if (st.status === 'done') progress.value = progress.max;
    else progress.removeAttribute('value');
    runLog.hidden = st.presetLog.length === 0;
    runLog.textContent = st.presetLog.slice(-12).join('\n');
    message.hidden = st.message === null;
    message.textContent = st.message ?? '';
    message.dataset.status = st.status;
    if (shownReport !== st.presetReport) {
      shownReport = st.presetReport;
      showPresetReport();
    }
  }

  // The link's run, else the example config.
  const shared = decodeShareHash(location.hash);
  editor.value = JSON.stringify(EXAMPLE_CONFIG, null, 2);
  if (shared.source?.kind === 'config') editor.value = shared.source.text;
  if (shared.source?.kind === 'preset') {
    if (shared.source.preset in PRESETS) {
      sourceSelect.value = `preset:${shared.source.preset}`;
      scaleSelect.value = shared.source.scale;
    } else shared.error = `link: unknown preset "${shared.source.preset}" (presets: ${Object.keys(PRESETS).join(', ')})`;
  }
  showPresetInfo();
  validate(true);
  if (shared.error) {
    runner.state.message = shared.error;
    refresh();
  }
  gpuReady.then((ok) => {
    gpuOk = ok;
    gpuKnown = true;
    refresh();
    if (!ok) return;
    const decision = autorunDecision(shared, shared.source?.kind === 'config' ? checkEditor() : null);
    if (decision.action === 'run') start();
    if (decision.action === 'confirm') askBeforeRunning(decision.reasons);
  });

  /** A link asked to run something large: say what, and run it only on an explicit click. */
  function askBeforeRunning(reasons: string[]): void {
    const box = $<HTMLElement>('#run-confirm');
    $<HTMLElement>('#run-confirm-text').textContent = `This link asks to run something large — ${reasons.join('; ')}. It was not started.`;
    box.hidden = false;
    $<HTMLButtonElement>('#run-confirm-yes').onclick = () => {
      box.hidden = true;
      start();
    };
    $<HTMLButtonElement>('#run-confirm-no').onclick = () => {
      box.hidden = true;
    };
  }
  return { refresh };
}
