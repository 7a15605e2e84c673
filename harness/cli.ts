/**
 * The `muonlab` command line. Every command runs the same TypeScript as the page, inside headless
 * Chromium (harness/session.ts); this side parses arguments, prints tables and writes result files.
 *
 * --json FILE writes the result as JSON (versioned schema); a bare --json prints it instead of the table.
Exit codes: 0 ok · 1 a check failed or an error · 2 no WebGPU adapter (reason printed) · 64 bad usage.
 */
import { readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import {
  BenchReportSchema,
  CheckReportSchema,
  EnvRecordSchema,
  type BenchReport,
  type CheckReport,
  type EnvRecord,
  type VariantSelection,
} from '../src/experiments/results';
import type { BenchRow, CheckRow } from '../src/kernels/family';
import { KERNEL_NAMES } from '../src/kernels/index';
import { runId, writeJsonAtomic } from './files';
import { formatTable } from './table';
import { ensureAppBuilt, PROJECT_ROOT, serveStatic } from './server';
import { BUNDLE_INFO } from './bundleInfo';
import { openNodeSession } from './nodeHost';
import { HOST_NAMES, NoAdapterError, openSession, type Session, type SessionOptions } from './session';
import { applyVariantChoices } from './variantCache';
import { experimentJsonSchema } from '../src/experiments/config';
import { isPresetName, PRESET_CATALOG, PRESET_NAMES, presetCells } from '../src/experiments/presets/catalog';
import { SCALES, type PresetReport, type Scale } from '../src/experiments/presets/types';
import { appendRecord, beginCell, cellDirectory, finishCell, loadExperiment, planRun, writePerItem } from './run';
import { defaultMergeOut, mergeRuns, summarizeSweep, writeSweepCsv } from './merge';
import { reportFolder } from './report';
import { writeSweepPlots } from './sweepPlots';
import { collectPresetResults, ranOnFromEnvFiles, runPresetInCells, writePresetReport } from './presetRun';
import { createProgressBar } from './progress';
import { runValidation } from './validate';
import { RunProfileSchema, type RunProfile } from '../src/gpu/runProfile';
import { profileSummaryLine, profileTable } from '../src/gpu/profileTable';
import { resolveAutoShard, ShardEnvError } from './shardEnv';
import { runSlurmCommand } from './slurmCommand';

const USAGE = `muonlab — WebGPU kernels and Muon/GD/Adam associative-memory experiments, headless

Usage:
  muonlab env [--json [FILE]]                browser, adapter, features, limits, flags, kernel variants
  muonlab check [kernel…] [--json FILE]      GPU vs Float64 CPU reference, one row per case; exit 1 on a failure
  muonlab bench [kernel…] [--json FILE] [--runs N] [--variant NAME…] [--shape TEXT…]
                                             median timestamp-query kernel times and GFLOP/s per variant
  muonlab start [--out DIR]                  the main job: kernel checks, then the headline presets
                                             (b-balance-onestep, c-capacity-onestep) at quick scale
  muonlab run PRESET [--scale ci|quick|full] [--out DIR] [--shard i/n|auto] [--resume] [--profile]
                                             run one of the papers' experiments: summary.json (predicted vs
                                             measured), report.md, plots/*.svg + *.png in runs/<preset>-<scale>/;
                                             cells' raw results in cells/ (--resume skips finished ones)
  muonlab run CONFIG.json [--out DIR] [--set path=value…] [--shard i/n|auto] [--resume] [--profile]
                                             train every cell of an experiment config (sweep), streaming
                                             metrics.jsonl per cell; --resume skips finished cells
  muonlab run CONFIG.json --validate [--steps K]
                                             the first K (3) steps on the GPU and the Float64 CPU reference,
                                             re-synchronized each step: largest relative difference per quantity
  muonlab merge DIR… [--out DIR]             combine --shard folders into one run; summaries and fits are
                                             recomputed from the cells' raw results
  muonlab report DIR…                        (re)render the figures (plots/*.svg, *.vl.json, *.png) and the
                                             report of finished run or merge folders; no GPU needed
                                             --profile: per-kernel GPU time (timestamp queries), dispatches
                                             per step, GFLOP/s, GB/s and % of the fma-peak → profile.json
                                             --shard auto: the shard from SLURM_ARRAY_TASK_ID/COUNT, or from
                                             JOB_COMPLETION_INDEX (Kubernetes Indexed Job) with --shards N
  muonlab slurm PRESET|CONFIG.json --shards N --out DIR [--scale S] [--set path=value…] [--partition P]
        [--gpus-per-task G] [--time HH:MM:SS] [--account A] [--extra "#SBATCH …"…] [--dry-run]
                                             submit a Slurm job array (one shard per task, resumable) and a
                                             merge job after it (DIR/merged); --dry-run prints the scripts;
                                             the same command again resubmits only unfinished shards
  muonlab slurm status DIR [--json]          the array's state (squeue/sacct) and the cells finished on disk
  muonlab presets                            the presets, their predictions and the sizes of each scale
  muonlab schema                             the experiment config's JSON Schema (for editors)
  muonlab serve                              build the web page (live plots, exports) and serve it on
                                             127.0.0.1; prints the URL to open in Chrome (Ctrl-C stops)

Kernels: ${KERNEL_NAMES.join(', ')} (default: all)

Browser options (every command):
  --browser-arg FLAG          extra Chromium flag (repeatable), e.g. --browser-arg=--enable-dawn-features=disable_robustness
  --no-default-browser-args   drop muonlab's default flags (then pass your own)
  --robust                    keep Dawn's robustness checks (default flags disable them; slower kernels)
  --headed                    show the browser window
  --reselect                  re-measure the kernel variant choice instead of using the cache
Environment: CHROMIUM_PATH=/path/to/chrome picks the browser; MUONLAB_CACHE_DIR moves the variant cache.

--json FILE writes the result as JSON (versioned schema); a bare --json prints it instead of the table.
Exit codes: 0 ok, 1 failure, 2 no WebGPU adapter (the reason is printed), 64 bad arguments.
`;

class UsageError extends Error {}

const COMMANDS = ['env', 'check', 'bench', 'start', 'run', 'merge', 'report', 'presets', 'schema', 'serve', 'help'] as const;

const OptionsSchema = z.object({
  command: z.enum(COMMANDS),
  /** Positionals after the command: kernel names (check, bench) or the config file (run). */
  positionals: z.array(z.string()),
  json: z.string().min(1).optional(),
  runs: z.coerce.number().int().min(1).max(1000).optional(),
  out: z.string().min(1).optional(),
  variant: z.array(z.string()).optional(),
  shape: z.array(z.string()).optional(),
  set: z.array(z.string()).optional(),
  shard: z.string().regex(/^(\d+\/\d+|auto)$/, 'expected i/n such as 1/4, or auto (from SLURM_ARRAY_TASK_ID / JOB_COMPLETION_INDEX)').optional(),
  /** With `--shard auto`: the shard count where the environment lacks it (Kubernetes Indexed Jobs). */
  shards: z.coerce.number().int('must be a whole number').min(1, 'must be at least 1').optional(),
  resume: z.boolean().optional(),
  validate: z.boolean().optional(),
  steps: z.coerce.number().int().min(1).max(50).optional(),
  scale: z.enum(SCALES).optional(),
  profile: z.boolean().optional(),
  host: z.enum(HOST_NAMES).optional(),
});

type Options = z.infer<typeof OptionsSchema> & {
  browserArgs: string[];
  noDefaultArgs: boolean;
  headed: boolean;
  robust: boolean;
  reselect: boolean;
};

export function parseCommandLine(argv: string[]): Options {
  // A bare `--json` (last, or followed by another flag) means "JSON to stdout".
  argv = argv.map((a, i) => (a === '--json' && (i === argv.length - 1 || argv[i + 1].startsWith('-')) ? '--json=-' : a));
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        json: { type: 'string' },
        runs: { type: 'string' },
        out: { type: 'string' },
        variant: { type: 'string', multiple: true },
        shape: { type: 'string', multiple: true },
        set: { type: 'string', multiple: true },
        shard: { type: 'string' },
        shards: { type: 'string' },
        resume: { type: 'boolean' },
        validate: { type: 'boolean' },
        steps: { type: 'string' },
        scale: { type: 'string' },
        profile: { type: 'boolean' },
        host: { type: 'string' },
        'browser-arg': { type: 'string', multiple: true },
        'no-default-browser-args': { type: 'boolean' },
        headed: { type: 'boolean' },
        robust: { type: 'boolean' },
        reselect: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const [command = 'help', ...positionals] = parsed.positionals;
  const v = parsed.values;
  const result = OptionsSchema.safeParse({
    command: v.help ? 'help' : command,
    positionals,
    json: v.json,
    runs: v.runs,
    out: v.out,
    variant: v.variant,
    shape: v.shape,
    set: v.set,
    shard: v.shard,
    shards: v.shards,
    resume: v.resume,
    validate: v.validate,
    steps: v.steps,
    scale: v.scale,
    profile: v.profile,
    host: v.host,
  });
  if (result.success && ['check', 'bench', 'start'].includes(result.data.command)) {
    const unknown = result.data.positionals.filter((k) => !(KERNEL_NAMES as readonly string[]).includes(k));
    if (unknown.length) throw new UsageError(`kernel = ${JSON.stringify(unknown[0])}: unknown kernel (allowed: ${KERNEL_NAMES.join(', ')})`);
  }
  if (result.success && result.data.command === 'run' && result.data.positionals.length !== 1) {
    throw new UsageError('run: give exactly one experiment config file (muonlab run CONFIG.json)');
  }
  if (result.success && result.data.command === 'report' && result.data.positionals.length === 0) {
    throw new UsageError('report: give the run or merge folders to render (muonlab report runs/NAME…)');
  }
  if (result.success && result.data.command === 'merge' && result.data.positionals.length === 0) {
    throw new UsageError('merge: give the run folders to combine (muonlab merge runs/a/NAME runs/b/NAME [--out DIR])');
  }
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const field = issue.path[0] === 'command' ? 'command' : `--${String(issue.path[0])}`;
      const got = issue.path.length ? JSON.stringify(issue.path.reduce<unknown>((o, k) => (o as Record<string, unknown>)?.[k as string], { command, ...v })) : '';
      const allowed = issue.code === 'invalid_value' ? ` (allowed: ${(issue.values as unknown[]).join(', ')})` : '';
      return `${field}${got ? ` = ${got}` : ''}: ${issue.message}${allowed}`;
    });
    throw new UsageError(lines.join('\n'));
  }
  if (result.data.shards !== undefined && result.data.shard !== 'auto') {
    throw new UsageError(`--shards = ${result.data.shards}: only with --shard auto (the count of a Kubernetes Indexed Job); with --shard i/n the count is n`);
  }
  if (result.data.shard === 'auto') {
    try {
      const auto = resolveAutoShard(process.env, result.data.shards);
      result.data.shard = `${auto.shard}/${auto.count}`;
      progress(`--shard auto: shard ${result.data.shard} (${auto.source})`);
    } catch (err) {
      if (err instanceof ShardEnvError) throw new UsageError(err.message);
      throw err;
    }
  }
  return {
    ...result.data,
    browserArgs: v['browser-arg'] ?? [],
    noDefaultArgs: Boolean(v['no-default-browser-args']),
    headed: Boolean(v.headed),
    robust: Boolean(v.robust),
    reselect: Boolean(v.reselect),
  };
}

function progress(message: string): void {
  process.stderr.write(`  … ${message}\n`);
}

/** Opens a session with the command line's browser options, chooses kernel variants, runs `fn`. */
async function withSession<T>(
  options: Options,
  fn: (session: Session, variants: VariantSelection) => Promise<T>,
  streams: Pick<SessionOptions, 'onTrainProgress' | 'onRecord' | 'onPerItem'> = {},
): Promise<T> {
  const open = options.host === 'node' ? openNodeSession : openSession;
  const session = await open({
    browserArgs: options.browserArgs,
    noDefaultArgs: options.noDefaultArgs,
    robust: options.robust,
    headed: options.headed,
    log: progress,
    onProgress: progress,
    ...streams,
  });
  try {
    const variants = await applyVariantChoices(session, { reselect: options.reselect, log: progress });
    return await fn(session, variants);
  } finally {
    await session.close();
  }
}

function packageVersion(): string {
  if (BUNDLE_INFO) return BUNDLE_INFO.version;
  return (JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

function envRecord(session: Session, variants: VariantSelection): EnvRecord {
  return EnvRecordSchema.parse({
    schema: 'muonlab.env/1',
    createdAt: new Date().toISOString(),
    muonlabVersion: packageVersion(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    host: session.host,
    browser: { path: session.location.path, source: session.location.source, version: session.browserVersion, userAgent: session.env.userAgent },
    flags: session.flags,
    ...(session.adapterChoice ? { adapterChoice: session.adapterChoice } : {}),
    adapter: session.env.adapter,
    features: session.env.features,
    limits: session.env.limits,
    variants,
  });
}

function printEnv(env: EnvRecord): void {
  const a = env.adapter;
  console.log(`host      ${env.host ?? 'browser'}`);
  console.log(`${env.host === 'node' ? 'runtime ' : 'browser '}  ${env.browser.version} (${env.browser.path}, ${env.browser.source})`);
  console.log(`flags     ${env.flags.join(' ')}`);
  console.log(`adapter   ${a.vendor} / ${a.architecture}${a.description ? ` / ${a.description}` : ''}${a.isFallbackAdapter ? ' (FALLBACK adapter: a CPU emulation, not a GPU)' : ''}`);
  if (env.adapterChoice) console.log(`          chosen: ${env.adapterChoice.reason}`);
  console.log(`features  ${env.features.join(', ')}`);
  const l = env.limits;
  console.log(`limits    maxBufferSize ${l.maxBufferSize}, maxStorageBufferBindingSize ${l.maxStorageBufferBindingSize}, ` +
    `maxComputeWorkgroupStorageSize ${l.maxComputeWorkgroupStorageSize}, maxComputeInvocationsPerWorkgroup ${l.maxComputeInvocationsPerWorkgroup}`);
  if (env.variants) {
    console.log(`variants  ${env.variants.source === "cache" ? "from the cache, " : ""}measured ${env.variants.measuredAt}`);
    for (const [family, classes] of Object.entries(env.variants.table)) {
      for (const [shapeClass, variant] of Object.entries(classes)) console.log(`          ${family} ${shapeClass}: ${variant}`);
    }
  }
}

function printCheck(rows: CheckRow[]): void {
  console.log(formatTable(
    ['kernel', 'variant', 'case', 'max |err|', 'err/allowed', 'result'],
    rows.map((r) => [r.kernel, r.variant, r.caseId, fmt(r.maxAbsError, 2), fmt(r.worstRatio, 3), r.pass ? 'pass' : `FAIL${r.error ? `: ${r.error}` : ''}`]),
  ));
  const failed = rows.filter((r) => !r.pass).length;
  console.log(`${rows.length - failed} passed, ${failed} failed`);
}

function printBench(rows: BenchRow[]): void {
  const ofPeak = (f: number | null | undefined) => (f === null || f === undefined ? '—' : `${(100 * f).toFixed(1)}%`);
  console.log(formatTable(
    ['kernel', 'variant', 'shape', 'runs', 'median ms', 'min ms', 'first ms', 'GFLOP/s', 'of peak', 'GB/s', 'chosen', 'note'],
    rows.map((r) => [r.kernel, r.variant, r.shape, String(r.runs), r.medianMs.toFixed(3), r.minMs.toFixed(3), r.firstRunMs.toFixed(0), r.flops > 0 ? r.gflops.toFixed(2) : '—', ofPeak(r.peakFraction), r.gbps !== undefined ? r.gbps.toFixed(2) : '—', r.chosen ? '*' : '', r.note ?? '']),
  ));
}

/** Writes profile.json (schema muonlab.profile/1) into `dir` and prints its table. */
function writeProfile(dir: string, profile: RunProfile): void {
  const parsed = RunProfileSchema.parse(profile);
  writeJsonAtomic(join(dir, 'profile.json'), parsed);
  const table = profileTable(parsed);
  console.log(formatTable(table.headers, table.rows));
  console.log(`${profileSummaryLine(parsed)}; file: ${relative(process.cwd(), join(dir, 'profile.json'))}`);
}

/**
 * `--json -` prints the JSON instead of the table (returns true); `--json FILE` writes the file
 * (atomically) and the table is still printed.
 */
function emitJson(target: string | undefined, value: unknown): boolean {
  if (target === undefined) return false;
  if (target === '-') {
    console.log(JSON.stringify(value, null, 2));
    return true;
  }
  writeJsonAtomic(resolve(target), value);
  console.error(`wrote ${target}`);
  return false;
}

function fmt(x: number | null, digits: number): string {
  return x === null || !Number.isFinite(x) ? '—' : x.toExponential(digits);
}

async function runCheck(session: Session, kernels: string[]): Promise<CheckReport> {
  const rows = await session.call('check', kernels, 'full');
  const failed = rows.filter((r) => !r.pass).length;
  return CheckReportSchema.parse({ schema: 'muonlab.check/1', createdAt: new Date().toISOString(), kernels, passed: rows.length - failed, failed, rows });
}

async function runBench(session: Session, variants: VariantSelection, options: Options, kernels: string[]): Promise<BenchReport> {
  const rows = await session.call('bench', kernels, { runs: options.runs, variants: options.variant, shapes: options.shape });
  const peak = await session.call('peak'); // measured once per device: the bench call already did
  return BenchReportSchema.parse({
    schema: 'muonlab.bench/1', createdAt: new Date().toISOString(), kernels, env: envRecord(session, variants), rows,
    peak: { gflops: peak.gflops, gbps: peak.gbps },
  });
}

function printPresets(): void {
  for (const name of PRESET_NAMES) {
    const p = PRESET_CATALOG[name];
    console.log(`${p.name} — ${p.title}\n  ${p.paper}`);
    for (const prediction of p.predictions) console.log(`  • ${prediction}`);
    for (const scale of SCALES) console.log(`  ${scale.padEnd(5)} ${p.scales[scale].sizes}; ${p.scales[scale].cells} cell(s) (${p.scales[scale].estimate})`);
    console.log('');
  }
}

/**
 * Runs a preset in the page, cell by cell (results kept per cell: --shard, --resume; --profile
 * writes each cell's profile.json), and when every cell has a result writes summary.json,
 * report.md and plots (SVG + PNG) and prints the predictions. Returns null when this shard's cells
 * are done but other shards' are still missing.
 */
async function runPresetToDisk(session: Session, variants: VariantSelection, name: string, scale: Scale, out: string | undefined, profile = false, cellOptions: { shard?: string; resume?: boolean } = {}): Promise<PresetReport | null> {
  if (!isPresetName(name)) throw new UsageError(`run: unknown preset "${name}"; presets: ${PRESET_NAMES.join(', ')}`);
  const dir = resolve(out ?? join(process.cwd(), 'runs'), `${name}-${scale}`);
  writeJsonAtomic(join(dir, 'env.json'), envRecord(session, variants));
  console.log(`\n${name} (${scale}): ${PRESET_CATALOG[name].scales[scale].sizes}`);
  return runPresetInCells(session, name, scale, dir, presetCells(name, scale), {
    ...cellOptions,
    profile,
    onCell: (done, total, cell) => progress(done < total ? `cell ${done + 1}/${total} ${cell.id}` : `${total} cell(s) done`),
    onProfile: (cellDir, cellProfile) => writeProfile(cellDir, cellProfile),
  });
}

async function runExperiment(options: Options): Promise<number> {
  const config = loadExperiment(options.positionals[0], options.set ?? []);
  const plan = planRun(config, { out: options.out ?? join(process.cwd(), 'runs'), shard: options.shard, resume: options.resume });
  console.log(`${config.name}: ${plan.cells.length} cell(s), ${plan.todo.length} to run here → ${relative(process.cwd(), plan.root) || '.'}/`);
  if (plan.todo.length === 0) return 0;
  const dirs = new Map(plan.todo.map((c) => [c.id, cellDirectory(plan.root, c)]));
  const bar = createProgressBar(plan.todo.length);
  await withSession(
    options,
    async (session, variants) => {
      writeJsonAtomic(join(plan.root, 'config.json'), config);
      writeJsonAtomic(join(plan.root, 'env.json'), envRecord(session, variants));
      for (const cell of plan.todo) {
        const dir = dirs.get(cell.id)!;
        beginCell(dir, cell);
        const summary = await session.call('runCell', cell.config, cell.id, { profile: options.profile });
        finishCell(dir, { ...summary, profile: undefined });
        if (summary.profile) writeProfile(dir, summary.profile);
        bar.cellDone(summary.elapsedMs);
        const diverged = summary.runs.filter((r) => r.diverged).length;
        console.log(`  ${cell.id}: ${summary.steps} steps (${summary.stopped}), ${(summary.elapsedMs / 1000).toFixed(1)} s${diverged ? `, ${diverged} run(s) diverged` : ''}`);
      }
      // The page's live figures, drawn by the same code from every finished cell's records.
      const plots = await writeSweepPlots(await session.renderer(), plan.root);
      console.log(`plots: ${plots.svg.join(', ')} (+ .vl.json${plots.png.length ? ', .png' : ''})`);
    },
    {
      onTrainProgress: (event) => bar.update(event),
      onRecord: (cell, record) => appendRecord(dirs.get(cell)!, cell, record),
      onPerItem: (cell, arrays) => writePerItem(dirs.get(cell)!, arrays),
    },
  );
  bar.end();
  // The root summary is recomputed from every finished cell's raw files (this run's and earlier ones).
  const summary = summarizeSweep(plan.root);
  writeJsonAtomic(join(plan.root, 'summary.json'), summary);
  writeSweepCsv(plan.root);
  if (summary.missing.length) console.log(`${summary.missing.length} cell(s) not finished here (other shards?): combine with muonlab merge`);
  console.log(`results: ${relative(process.cwd(), plan.root) || '.'}/`);
  return 0;
}

/** `muonlab merge DIR…`: combines shard folders; a preset's report is recomputed in the page. */
async function runMergeCommand(options: Options): Promise<number> {
  const out = options.out ?? defaultMergeOut(options.positionals);
  const merged = mergeRuns(options.positionals, out);
  for (const [dir, n] of Object.entries(merged.copied)) console.log(`  ${relative(process.cwd(), dir) || '.'}: ${n} cell(s)`);
  if (merged.missing.length) {
    console.error(`muonlab: ${merged.missing.length} cell(s) have no result in any input: ${merged.missing.slice(0, 8).join(', ')}${merged.missing.length > 8 ? ', …' : ''}`);
  }
  if (merged.kind === 'preset' && merged.missing.length === 0) {
    const m = merged.manifest!;
    await withSession(options, async (session) => {
      const { results } = collectPresetResults(merged.root, m.cells);
      const report = await session.call('summarizePreset', m.preset, m.scale, results);
      // Labelled with where the shards ran (their env.json), not with the merging session's adapter.
      await writePresetReport(await session.renderer(), merged.root, report, ranOnFromEnvFiles(options.positionals.map((p) => join(p, 'env.json'))));
    });
  }
  if (merged.kind === 'config' && merged.summary?.cells.length) {
    // Config merges get the figures of their cells too (muonlab report, no GPU needed).
    const figures = (await reportFolder(merged.root)).filter((f) => f.endsWith('.svg'));
    console.log(`figures: ${figures.join(', ')}`);
  }
  if (merged.summary) console.log(`${merged.summary.cells.length} cell(s), ${merged.summary.fits.length} fit(s) recomputed → ${relative(process.cwd(), join(merged.root, 'summary.json'))}`);
  console.log(`merged: ${relative(process.cwd(), merged.root) || '.'}/`);
  return merged.missing.length ? 1 : 0;
}

export async function main(argv: string[]): Promise<number> {
  // `slurm` has its own options (harness/slurmArgs.ts); it forwards the run options to its tasks.
  if (argv[0] === 'slurm') return runSlurmCommand(argv.slice(1));
  let options: Options;
  try {
    options = parseCommandLine(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`muonlab: ${err.message}\n\n${USAGE}`);
      return 64;
    }
    throw err;
  }
  const kernels: string[] = options.positionals.length ? options.positionals : [...KERNEL_NAMES];
  try {
    switch (options.command) {
      case 'help':
        console.log(USAGE);
        return 0;
      case 'schema':
        console.log(JSON.stringify(experimentJsonSchema(), null, 2));
        return 0;
      case 'serve': {
        const server = await serveStatic(await ensureAppBuilt((m) => console.error(m)));
        console.log(`muonlab page: ${server.url}  (open it in Chrome or Edge ≥ 113; Ctrl-C stops)`);
        await new Promise<void>((done) => {
          process.once('SIGINT', done);
          process.once('SIGTERM', done);
        });
        await server.close();
        return 0;
      }
      case 'presets':
        printPresets();
        return 0;
      case 'run':
        if ((PRESET_NAMES as string[]).includes(options.positionals[0])) {
          return await withSession(options, async (session, variants) => {
            const report = await runPresetToDisk(session, variants, options.positionals[0], options.scale ?? 'quick', options.out, options.profile, { shard: options.shard, resume: options.resume });
            return !report || report.predictions.every((p) => p.agrees) ? 0 : 1;
          });
        }
        if (!options.positionals[0].endsWith('.json')) {
          throw new UsageError(`run: "${options.positionals[0]}" is neither a preset (${PRESET_NAMES.join(', ')}) nor a .json config file`);
        }
        if (options.validate) {
          const config = loadExperiment(options.positionals[0], options.set ?? []);
          return await withSession(options, async (session) => {
            await runValidation(session, config, { out: options.out ?? join(process.cwd(), 'runs'), steps: options.steps });
            return 0;
          });
        }
        return await runExperiment(options);
      case 'merge':
        return await runMergeCommand(options);
      case 'report':
        for (const dir of options.positionals) {
          const written = await reportFolder(dir);
          console.log(`${relative(process.cwd(), resolve(dir)) || '.'}: ${written.length} file(s) written (${written.filter((f) => f.startsWith('plots/')).length} figure files)`);
        }
        return 0;
      case 'env':
        return await withSession(options, async (session, variants) => {
          const env = envRecord(session, variants);
          if (!emitJson(options.json, env)) printEnv(env);
          return 0;
        });
      case 'check':
        return await withSession(options, async (session) => {
          const report = await runCheck(session, kernels);
          if (!emitJson(options.json, report)) printCheck(report.rows);
          return report.failed === 0 ? 0 : 1;
        });
      case 'bench':
        return await withSession(options, async (session, variants) => {
          const report = await runBench(session, variants, options, kernels);
          if (!emitJson(options.json, report)) printBench(report.rows);
          return 0;
        });
      case 'start':
        return await withSession(options, async (session, variants) => {
          const root = resolve(options.out ?? join(process.cwd(), 'runs'));
          const dir = join(root, runId('kernels'));
          const env = envRecord(session, variants);
          writeJsonAtomic(join(dir, 'env.json'), env);
          printEnv(env);
          console.log('\nchecking every kernel against the Float64 CPU reference…');
          const check = await runCheck(session, kernels);
          writeJsonAtomic(join(dir, 'check.json'), check);
          console.log(`${check.passed} passed, ${check.failed} failed (table: muonlab check; file: ${relative(process.cwd(), join(dir, 'check.json'))})`);
          if (check.failed) printCheck(check.rows.filter((r) => !r.pass));
          const scale = options.scale ?? 'quick';
          const reports: string[] = [];
          let disagreements = 0;
          for (const name of ['b-balance-onestep', 'c-capacity-onestep']) {
            const report = await runPresetToDisk(session, variants, name, scale, root);
            disagreements += (report?.predictions ?? []).filter((p) => !p.agrees).length;
            reports.push(relative(process.cwd(), join(root, `${name}-${scale}`, 'report.md')));
          }
          console.log(`\nreports:\n${reports.map((r) => `  ${r}`).join('\n')}`);
          if (disagreements) console.log(`${disagreements} prediction(s) disagree with the measurements: see the reports.`);
          return check.failed === 0 ? 0 : 1;
        });
    }
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`muonlab: ${err.message}`);
      return 64;
    }
    if (err instanceof RangeError || err instanceof SyntaxError) {
      console.error(`muonlab: ${err.message}`);
      return 1;
    }
    if (err instanceof NoAdapterError) {
      console.error(`muonlab: no WebGPU adapter (${err.reason})\n${err.message}`);
      return 2;
    }
    console.error(`muonlab: ${(err as Error).stack ?? err}`);
    return 1;
  }
}
