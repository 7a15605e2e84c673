/**
 * The page's transformer panel (issue 12): a `muonlab.transformer/1` config as JSON (validated by
 * field before any GPU work), Run / Cancel, and live plots of the loss and the accuracy per replica
 * as the records arrive (src/model/trainer.ts). One command buffer per training step, as in the CLI.
 */
import type { Gpu } from '../gpu/device';
import { parseTransformerConfig, type TransformerConfigInput } from '../model/config';
import { TransformerTrainer, type TransformerRecord } from '../model/trainer';
import { LiveFigure } from '../plots/embed';
import { transformerFigure } from '../plots/figures/transformer';

/** A config that trains in well under a minute on a CPU adapter. */
export const EXAMPLE_TRANSFORMER_CONFIG: TransformerConfigInput = {
  schema: 'muonlab.transformer/1',
  name: 'transformer-demo',
  model: { layers: 2, dModel: 32, heads: 4, vocab: 32, maxSeqLen: 32, mlp: 'relu2' },
  data: { kind: 'markov', vocab: 32, branching: 2, seed: 1 },
  optimizers: [
    { label: 'muon', patterns: ['layer.*'], optimizer: { name: 'muon', lr: 0.03, nesterov: true }, muonScale: 'shape' },
    { label: 'adamw', patterns: ['*'], optimizer: { name: 'adamw', lr: 0.005 } },
  ],
  training: { steps: 60, batchSize: 4, seqLen: 32, seeds: [0, 1] },
  metrics: { every: 5 },
};

/**
 * Mounts the panel into `root`.
 *
 * @example
 * mountTransformerPanel(document.querySelector('#transformer')!, requestGpu());
 */
export function mountTransformerPanel(root: HTMLElement, gpuPromise: Promise<Gpu>): void {
  root.innerHTML = `<h2>Transformer</h2>
    <p>A decoder-only transformer (docs/transformer.md) trained on the GPU with per-matrix optimizer groups. Edit the config, then run.</p>
    <textarea id="transformer-config" spellcheck="false" rows="18" cols="90"></textarea>
    <ul id="transformer-errors" class="error" aria-live="polite" hidden></ul>
    <p class="controls"><button id="transformer-run">Run</button> <button id="transformer-cancel" disabled>Cancel</button>
      <span id="transformer-status" data-status="idle" aria-live="polite">idle</span></p>
    <div class="plot-grid"><div id="transformer-loss" class="plot" data-plot-id="transformer-loss"></div><div id="transformer-accuracy" class="plot" data-plot-id="transformer-accuracy"></div></div>`;
  const text = root.querySelector<HTMLTextAreaElement>('#transformer-config')!;
  const errors = root.querySelector<HTMLUListElement>('#transformer-errors')!;
  const runButton = root.querySelector<HTMLButtonElement>('#transformer-run')!;
  const cancelButton = root.querySelector<HTMLButtonElement>('#transformer-cancel')!;
  const status = root.querySelector<HTMLElement>('#transformer-status')!;
  // The same Vega-Lite figures as everywhere (src/plots): embedded live, tooltips, pan and zoom.
  const lossPlot = new LiveFigure(root.querySelector<HTMLElement>('#transformer-loss')!);
  const accuracyPlot = new LiveFigure(root.querySelector<HTMLElement>('#transformer-accuracy')!);
  text.value = JSON.stringify(EXAMPLE_TRANSFORMER_CONFIG, null, 2);
  let cancelled = false;
  const setStatus = (s: string, message: string) => {
    status.dataset.status = s;
    status.textContent = message;
  };
  // At most 4 redraws a second while training; the last one (end of the run) always draws.
  let lastDraw = -Infinity;
  const draw = async (records: TransformerRecord[], force = false) => {
    if (!force && performance.now() - lastDraw < 250) return;
    lastDraw = performance.now();
    await lossPlot.update(transformerFigure(records, 'loss'));
    await accuracyPlot.update(transformerFigure(records, 'accuracy'));
  };
  cancelButton.addEventListener('click', () => {
    cancelled = true;
  });
  runButton.addEventListener('click', async () => {
    errors.hidden = true;
    errors.innerHTML = '';
    let config;
    try {
      config = parseTransformerConfig(JSON.parse(text.value));
    } catch (err) {
      for (const line of (err as Error).message
        .split('\n')
        .slice(1)
        .map((l) => l.trim())
        .filter(Boolean)
        .concat((err as Error).message.includes('\n') ? [] : [(err as Error).message])) {
        const li = document.createElement('li');
        li.textContent = line;
        errors.append(li);
      }
      errors.hidden = false;
      setStatus('invalid', 'invalid config');
      return;
    }
    runButton.disabled = true;
    cancelButton.disabled = false;
    cancelled = false;
    const records: TransformerRecord[] = [];
    let trainer: TransformerTrainer | undefined;
    try {
      trainer = await TransformerTrainer.create(await gpuPromise, config);
      const steps = config.training.steps;
      setStatus('running', `step 0/${steps}`);
      while (trainer.step < steps && !cancelled) {
        const recs = await trainer.runStep(trainer.step % config.metrics.every === 0);
        if (recs) {
          records.push(...recs);
          for (const r of recs) window.muonlabTransformerRecord?.(r);
          await draw(records);
        }
        setStatus('running', `step ${trainer.step}/${steps}`);
      }
      if (!cancelled) {
        const last = await trainer.evaluate();
        records.push(...last);
        for (const r of last) window.muonlabTransformerRecord?.(r);
      }
      await draw(records, true);
      const final = records.filter((r) => r.step === trainer!.step).map((r) => `seed ${r.seed}: loss ${r.loss.toFixed(3)}`);
      setStatus(
        cancelled ? 'cancelled' : 'done',
        `${cancelled ? 'cancelled' : 'done'} at step ${trainer.step}${final.length ? ` (${final.join(', ')})` : ''}`,
      );
    } catch (err) {
      setStatus('failed', `failed: ${(err as Error).message}`);
    } finally {
      trainer?.destroy();
      runButton.disabled = false;
      cancelButton.disabled = true;
    }
  });
}
