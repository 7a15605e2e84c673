/**
 * The `muonlab` command line. Every command runs the same TypeScript as the page, inside headless
 * Chromium (harness/session.ts); this side parses arguments, prints tables and writes result files.
 *
 * --json FILE writes the result as JSON (versioned schema); a bare --json prints it instead of the table.
 * Exit codes (harness/errors.ts): 0 ok · 1 a failed check, a disagreeing prediction or a runtime
 * error · 2 no usable browser or WebGPU adapter · 64 bad arguments or config · 130 interrupted.
 */
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
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
import type { RecordingStats } from '../src/train/records';
import { KERNEL_NAMES } from '../src/kernels/index';
import { runId, writeJsonAtomic } from './files';
import { formatTable } from './table';
import { ensureAppBuilt, PROJECT_ROOT, serveStatic } from './server';
import { BUNDLE_INFO } from './bundleInfo';
import { openNodeSession } from './nodeHost';
import { HOST_NAMES, openSession, type Session, type SessionOptions } from './session';
import { applyVariantChoices } from './variantCache';
import { experimentJsonSchema } from '../src/experiments/config';
import { isPresetName, PRESET_CATALOG, PRESET_NAMES, presetCells } from '../src/experiments/presets/catalog';
import { SCALES, type PredictionRecord, type PresetReport, type Scale } from '../src/experiments/presets/types';
import { appendRecord, beginCell, cellDirectory, clearRunFolder, finishCell, loadExperiment, planRun, writePerItem } from './run';
import { describeError, describeFsError, EXIT, exitCodeOf, InterruptedError, UsageError } from './errors';
import { lockFolder, type FolderLock } from './lock';
import { boundsProblems, bufferProblems, validationSizeProblems } from '../src/experiments/bounds';
import { ConfigError } from '../src/experiments/config';
import { expandSweep, parseShard } from '../src/experiments/sweep';
import { defaultMergeOut, mergeRuns, summarizeSweep, writeSweepCsv } from './merge';
import { reportFolder } from './report';
import { writeSweepPlots } from './sweepPlots';
import { collectPresetResults, ranOnFromEnvFiles, runPresetInCells, writePresetReport } from './presetRun';
import { createProgressBar } from './progress';
import { runValidation } from './validate';
import { RunProfileSchema, type RunProfile } from '../src/gpu/runProfile';
import { profileSummaryLine, profileTable } from '../src/gpu/profileTable';
import type { EncodedPerItem } from '../src/ui/automation';
import { resolveAutoShard, ShardEnvError } from './shardEnv';
import { runSlurmCommand } from './slurmCommand';
import { isTransformerConfig, transformerJsonSchema } from '../src/model/config';
import { appendTransformerRecord, beginTransformerRun, finishTransformerRun, planTransformerRun, writeCheckpoint } from './transformerRun';
import { applyOverrides } from './run';

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
                                             measured), report.md, plots/*.svg|vl.json|png in runs/<preset>-<scale>/;
                                             cells' raw results in cells/ (--resume skips finished ones)
  muonlab run CONFIG.json [--out DIR] [--set path=value…] [--shard i/n|auto] [--resume | --force-new]
                       [--allow-large] [--profile]
                                             train every cell of an experiment config (sweep), streaming
                                             metrics.jsonl per cell; --resume skips finished cells (of the
                                             same config: another config is refused, naming the field);
                                             --force-new deletes a folder's earlier results first;
                                             --allow-large runs configs above the size bounds
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
  muonlab schema [transformer]               the experiment (or transformer) config's JSON Schema (for editors)
  muonlab serve                              build the web page (live plots, exports) and serve it on
                                             127.0.0.1; prints the URL to open in Chrome (Ctrl-C stops)

Kernels: ${KERNEL_NAMES.join(', ')} (default: all)

Browser options (commands that start a browser: env, check, bench, start, run, merge):
  --browser-arg FLAG          extra Chromium flag (repeatable), e.g. --browser-arg=--enable-dawn-features=disable_robustness
  --no-default-browser-args   drop muonlab's default flags (then pass your own)
  --robust                    keep Dawn's robustness checks (default flags disable them; slower kernels)
  --headed                    show the browser window
  --reselect                  re-measure the kernel variant choice instead of using the cache
Environment: CHROMIUM_PATH=/path/to/chrome picks the browser; MUONLAB_CACHE_DIR moves the variant cache.

--debug (every command) prints stack traces with errors.
--json FILE writes the result as JSON (versioned schema); a bare --json prints it instead of the table.
Exit codes: 0 ok; 1 a failed check, a disagreeing prediction, a runtime error or a folder held by
another run; 2 no usable browser or WebGPU adapter (the reason is printed); 64 bad arguments or
config; 130 interrupted (Ctrl-C) after saving what finished.
`;

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
  shard: z
    .string()
    .regex(/^(\d+\/\d+|auto)$/, 'expected i/n such as 1/4, or auto (from SLURM_ARRAY_TASK_ID / JOB_COMPLETION_INDEX)')
    .optional(),
  /** With `--shard auto`: the shard count where the environment lacks it (Kubernetes Indexed Jobs). */
  shards: z.coerce.number().int('must be a whole number').min(1, 'must be at least 1').optional(),
  resume: z.boolean().optional(),
  validate: z.boolean().optional(),
  steps: z.coerce.number().int().min(1).max(50).optional(),
  scale: z.enum(SCALES).optional(),
  profile: z.boolean().optional(),
  forceNew: z.boolean().optional(),
  allowLarge: z.boolean().optional(),
  host: z.enum(HOST_NAMES).optional(),
});

type Options = z.infer<typeof OptionsSchema> & {
  browserArgs: string[];
  noDefaultArgs: boolean;
  headed: boolean;
  robust: boolean;
  reselect: boolean;
  debug: boolean;
};

/** What `run` was given: a preset name or a config file. */
type Target = 'preset' | 'config';

// Options of whatever runs the GPU work (the browser, or Node with --host node).
const BROWSER_FLAGS = ['host', 'browser-arg', 'no-default-browser-args', 'headed', 'robust', 'reselect'];

/**
 * The flags each command (and `run` target) uses; any other flag given is an error, since a flag
 * silently ignored (--set on a preset, --scale on a config) runs something else than was asked.
 */
const APPLICABLE: Record<string, string[]> = {
  help: [],
  schema: [],
  presets: [],
  serve: [],
  env: ['json', ...BROWSER_FLAGS],
  check: ['json', ...BROWSER_FLAGS],
  bench: ['json', 'runs', 'variant', 'shape', ...BROWSER_FLAGS],
  start: ['out', 'scale', ...BROWSER_FLAGS],
  'run PRESET': ['scale', 'out', 'shard', 'shards', 'resume', 'profile', ...BROWSER_FLAGS],
  'run CONFIG.json': ['out', 'set', 'shard', 'shards', 'resume', 'force-new', 'allow-large', 'profile', ...BROWSER_FLAGS],
  'run CONFIG.json --validate': ['validate', 'steps', 'out', 'set', 'allow-large', ...BROWSER_FLAGS],
  merge: ['out', ...BROWSER_FLAGS],
};

function applicabilityProblems(command: string, target: Target | null, validate: boolean, given: string[]): string[] {
  const key =
    command === 'run' ? (target === 'preset' ? 'run PRESET' : validate ? 'run CONFIG.json --validate' : 'run CONFIG.json') : command;
  const allowed = new Set([...(APPLICABLE[key] ?? []), 'debug', 'help']);
  const problems = given
    .filter((f) => !allowed.has(f))
    .map((f) => {
      const uses = APPLICABLE[key]?.filter((x) => !BROWSER_FLAGS.includes(x)) ?? [];
      return `--${f} does not apply to \`muonlab ${key}\`${uses.length ? ` (its options: ${uses.map((x) => `--${x}`).join(', ')})` : ' (it takes no options)'}`;
    });
  if (given.includes('resume') && given.includes('force-new'))
    problems.push("--resume and --force-new exclude each other: continue the folder's run, or start it over");
  return problems;
}

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
        'force-new': { type: 'boolean' },
        'allow-large': { type: 'boolean' },
        debug: { type: 'boolean' },
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
    forceNew: v['force-new'],
    allowLarge: v['allow-large'],
    host: v.host,
  });
  if (result.success && ['check', 'bench', 'start'].includes(result.data.command)) {
    const unknown = result.data.positionals.filter((k) => !(KERNEL_NAMES as readonly string[]).includes(k));
    if (unknown.length)
      throw new UsageError(`kernel = ${JSON.stringify(unknown[0])}: unknown kernel (allowed: ${KERNEL_NAMES.join(', ')})`);
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
  if (result.success && ['env', 'presets', 'schema', 'serve', 'help'].includes(result.data.command) && result.data.positionals.length > 0) {
    throw new UsageError(`${result.data.command}: takes no arguments, got ${JSON.stringify(result.data.positionals[0])}`);
  }
  let target: Target | null = null;
  if (result.success && result.data.command === 'run') {
    const what = result.data.positionals[0];
    if ((PRESET_NAMES as string[]).includes(what)) target = 'preset';
    else if (what.endsWith('.json')) target = 'config';
    else throw new UsageError(`run: "${what}" is neither a preset (${PRESET_NAMES.join(', ')}) nor a .json config file`);
  }
  if (result.success) {
    const given = Object.entries(v)
      .filter(([k, x]) => x !== undefined && k !== 'help' && !(Array.isArray(x) && x.length === 0))
      .map(([k]) => k);
    const problems = applicabilityProblems(result.data.command, target, Boolean(v.validate), given);
    if (problems.length) throw new UsageError(problems.join('\n'));
  }
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const field = issue.path[0] === 'command' ? 'command' : `--${String(issue.path[0])}`;
      const got = issue.path.length
        ? JSON.stringify(issue.path.reduce<unknown>((o, k) => (o as Record<string, unknown>)?.[k as string], { command, ...v }))
        : '';
      const allowed = issue.code === 'invalid_value' ? ` (allowed: ${(issue.values as unknown[]).join(', ')})` : '';
      return `${field}${got ? ` = ${got}` : ''}: ${issue.message}${allowed}`;
    });
    throw new UsageError(lines.join('\n'));
  }
  if (result.data.shards !== undefined && result.data.shard !== 'auto') {
    throw new UsageError(
      `--shards = ${result.data.shards}: only with --shard auto (the count of a Kubernetes Indexed Job); with --shard i/n the count is n`,
    );
  }
  if (result.data.shard === 'auto') {
    try {
      const auto = resolveAutoShard(process.env, result.data.shards);
      result.data.shard = `${auto.shard}/${auto.count}`;
      progress(`--shard auto: shard ${result.data.shard} (${auto.source})`);
    } catch (err) {
      if (err instanceof ShardEnvError) throw new UsageError(err.message, { cause: err });
      throw err;
    }
  }
  if (result.data.shard !== undefined) {
    const { shard, count } = parseShard(result.data.shard);
    if (count < 1 || shard < 1 || shard > count)
      throw new UsageError(`--shard = "${result.data.shard}": expected i/n with 1 ≤ i ≤ n, such as 1/4`);
  }
  return {
    ...result.data,
    browserArgs: v['browser-arg'] ?? [],
    noDefaultArgs: Boolean(v['no-default-browser-args']),
    headed: Boolean(v.headed),
    robust: Boolean(v.robust),
    reselect: Boolean(v.reselect),
    debug: Boolean(v.debug),
  };
}

/** One line on the host's recording cost of a cell's steps (dispatches per second of recording time). */
function recordingLine(r: RecordingStats): string {
  const perSecond = (n: number, ms: number) => (ms > 0 ? `${Math.round((1000 * n) / ms)}/s` : '—');
  const plan = r.plan
    ? `step plan: ${r.plan.bindGroupsCreated} bind groups and ${r.plan.uniformBuffersCreated} uniform buffers made, ${r.plan.uniformWrites} uniform rewrites`
    : 'no step plan: a uniform buffer and a bind group per dispatch';
  return (
    `recording: ${r.dispatches} dispatches in ${r.steps} steps, ${r.recordMs.toFixed(0)} ms recording (${perSecond(r.dispatches, r.recordMs)}), ` +
    `${r.submitMs.toFixed(0)} ms submitting (${perSecond(r.dispatches, r.recordMs + r.submitMs)} with it); ${plan}`
  );
}

function progress(message: string): void {
  process.stderr.write(`  … ${message}\n`);
}

/**
 * Opens a session with the command line's browser options, chooses kernel variants, runs `fn`.
 * When `signal` aborts (Ctrl-C) the session is closed at once: a page call in flight then fails,
 * and the caller saves what had finished.
 */
async function withSession<T>(
  options: Options,
  fn: (session: Session, variants: VariantSelection) => Promise<T>,
  streams: Pick<SessionOptions, 'onTrainProgress' | 'onRecord' | 'onPerItem' | 'onTransformerRecord' | 'onCheckpoint'> = {},
  signal?: AbortSignal,
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
  const onAbort = () => void session.close();
  signal?.addEventListener('abort', onAbort);
  try {
    if (signal?.aborted) throw new InterruptedError('interrupted before any work started');
    const variants = await applyVariantChoices(session, { reselect: options.reselect, log: progress });
    return await fn(session, variants);
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await session.close();
  }
}

/**
 * Throws the file-system error that creating (or writing into) `dir` would meet, checked on its
 * nearest existing ancestor: a file in the way (ENOTDIR), no permission, a read-only file system
 * (mkdir -p reports ENOENT there, which says nothing).
 */
function writableFolderCheck(dir: string): void {
  let at = resolve(dir);
  while (!existsSync(at) && dirname(at) !== at) at = dirname(at);
  if (!statSync(at).isDirectory()) throw Object.assign(new Error(`ENOTDIR: ${at}`), { code: 'ENOTDIR', syscall: 'mkdir', path: at });
  accessSync(at, constants.W_OK);
}

/**
 * Locks a results folder for this process. A folder that cannot be created or written (a file in
 * the way, no permission, a name too long) is a bad `--out`: exit 64 naming it.
 */
async function lockResults(dir: string, options: Options): Promise<FolderLock> {
  try {
    writableFolderCheck(dir);
    return await lockFolder(dir, {
      takeOverStale: Boolean(options.resume || options.forceNew),
      command: `muonlab ${process.argv.slice(2).join(' ')}`,
    });
  } catch (err) {
    const fs = describeFsError(err);
    if (fs) throw new UsageError(`--out ${options.out ?? 'runs'}: ${fs}`);
    throw err;
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
    browser: {
      path: session.location.path,
      source: session.location.source,
      version: session.browserVersion,
      userAgent: session.env.userAgent,
    },
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
  console.log(
    `adapter   ${a.vendor} / ${a.architecture}${a.description ? ` / ${a.description}` : ''}${a.isFallbackAdapter ? ' (FALLBACK adapter: a CPU emulation, not a GPU)' : ''}`,
  );
  if (env.adapterChoice) console.log(`          chosen: ${env.adapterChoice.reason}`);
  console.log(`features  ${env.features.join(', ')}`);
  const l = env.limits;
  console.log(
    `limits    maxBufferSize ${l.maxBufferSize}, maxStorageBufferBindingSize ${l.maxStorageBufferBindingSize}, ` +
      `maxComputeWorkgroupStorageSize ${l.maxComputeWorkgroupStorageSize}, maxComputeInvocationsPerWorkgroup ${l.maxComputeInvocationsPerWorkgroup}`,
  );
  if (env.variants) {
    console.log(`variants  ${env.variants.source === 'cache' ? 'from the cache, ' : ''}measured ${env.variants.measuredAt}`);
    for (const [family, classes] of Object.entries(env.variants.table)) {
      for (const [shapeClass, variant] of Object.entries(classes)) console.log(`          ${family} ${shapeClass}: ${variant}`);
    }
  }
}

function printCheck(rows: CheckRow[]): void {
  console.log(
    formatTable(
      ['kernel', 'variant', 'case', 'max |err|', 'err/allowed', 'result'],
      rows.map((r) => [
        r.kernel,
        r.variant,
        r.caseId,
        fmt(r.maxAbsError, 2),
        fmt(r.worstRatio, 3),
        r.pass ? 'pass' : `FAIL${r.error ? `: ${r.error}` : ''}`,
      ]),
    ),
  );
  const failed = rows.filter((r) => !r.pass).length;
  console.log(`${rows.length - failed} passed, ${failed} failed`);
}

function printBench(rows: BenchRow[]): void {
  const ofPeak = (f: number | null | undefined) => (f === null || f === undefined ? '—' : `${(100 * f).toFixed(1)}%`);
  console.log(
    formatTable(
      ['kernel', 'variant', 'shape', 'runs', 'median ms', 'min ms', 'first ms', 'GFLOP/s', 'of peak', 'GB/s', 'chosen', 'note'],
      rows.map((r) => [
        r.kernel,
        r.variant,
        r.shape,
        String(r.runs),
        r.medianMs.toFixed(3),
        r.minMs.toFixed(3),
        r.firstRunMs.toFixed(0),
        r.flops > 0 ? r.gflops.toFixed(2) : '—',
        ofPeak(r.peakFraction),
        r.gbps !== undefined ? r.gbps.toFixed(2) : '—',
        r.chosen ? '*' : '',
        r.note ?? '',
      ]),
    ),
  );
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
  return CheckReportSchema.parse({
    schema: 'muonlab.check/1',
    createdAt: new Date().toISOString(),
    kernels,
    passed: rows.length - failed,
    failed,
    rows,
  });
}

async function runBench(session: Session, variants: VariantSelection, options: Options, kernels: string[]): Promise<BenchReport> {
  const rows = await session.call('bench', kernels, { runs: options.runs, variants: options.variant, shapes: options.shape });
  const peak = await session.call('peak'); // measured once per device: the bench call already did
  return BenchReportSchema.parse({
    schema: 'muonlab.bench/1',
    createdAt: new Date().toISOString(),
    kernels,
    env: envRecord(session, variants),
    rows,
    peak: { gflops: peak.gflops, gbps: peak.gbps },
  });
}

function printPresets(): void {
  for (const name of PRESET_NAMES) {
    const p = PRESET_CATALOG[name];
    console.log(`${p.name} — ${p.title}\n  ${p.paper}`);
    for (const prediction of p.predictions) console.log(`  • ${prediction}`);
    for (const scale of SCALES)
      console.log(`  ${scale.padEnd(5)} ${p.scales[scale].sizes}; ${p.scales[scale].cells} cell(s) (${p.scales[scale].estimate})`);
    console.log('');
  }
}

/**
 * Runs a preset in the page, cell by cell (results kept per cell: --shard, --resume; --profile
 * writes each cell's profile.json), and when every cell has a result writes summary.json,
 * report.md and plots (SVG + PNG) and prints the predictions. Returns null when this shard's cells
 * are done but other shards' are still missing.
 */
async function runPresetToDisk(
  session: Session,
  variants: VariantSelection,
  name: string,
  scale: Scale,
  out: string | undefined,
  profile = false,
  cellOptions: { shard?: string; resume?: boolean; lock?: FolderLock } = {},
): Promise<PresetReport | null> {
  if (!isPresetName(name)) throw new UsageError(`run: unknown preset "${name}"; presets: ${PRESET_NAMES.join(', ')}`);
  const dir = presetDir(name, scale, out);
  // `start` runs several presets in one session: each folder is locked while it is written.
  const lock = cellOptions.lock ?? (await lockFolder(dir, { takeOverStale: Boolean(cellOptions.resume) }));
  try {
    writeJsonAtomic(join(dir, 'env.json'), envRecord(session, variants));
    console.log(`\n${name} (${scale}): ${PRESET_CATALOG[name].scales[scale].sizes}`);
    return await runPresetInCells(session, name, scale, dir, presetCells(name, scale), {
      shard: cellOptions.shard,
      resume: cellOptions.resume,
      profile,
      onCell: (done, total, cell) => {
        lock.check();
        progress(done < total ? `cell ${done + 1}/${total} ${cell.id}` : `${total} cell(s) done`);
      },
      onProfile: (cellDir, cellProfile) => writeProfile(cellDir, cellProfile),
    });
  } finally {
    if (!cellOptions.lock) await lock.release();
  }
}

function presetDir(name: string, scale: Scale, out: string | undefined): string {
  return resolve(out ?? join(process.cwd(), 'runs'), `${name}-${scale}`);
}

/**
 * `muonlab run CONFIG.json`. Everything that can be checked without a browser is checked first —
 * the config (unknown keys, sweep paths, every cell, every learning rate), the size bounds, the
 * folder (its lock, its earlier results) — so a bad run fails in a second and leaves nothing behind;
 * the adapter's buffer limits right after the browser starts, before anything is written.
 */
async function runExperiment(options: Options, signal: AbortSignal): Promise<number> {
  const config = loadExperiment(options.positionals[0], options.set ?? []);
  const cells = expandSweep(config);
  const big = options.allowLarge ? [] : boundsProblems(config, cells);
  if (big.length) throw new ConfigError(`${config.name} is larger than muonlab runs without asking:\n  ${big.join('\n  ')}`);
  const out = options.out ?? join(process.cwd(), 'runs');
  const lock = await lockResults(resolve(out, config.name), options);
  let wrote = false;
  try {
    const plan = planRun(config, { out, shard: options.shard, resume: options.resume, forceNew: options.forceNew });
    console.log(
      `${config.name}: ${plan.cells.length} cell(s), ${plan.todo.length} to run here${plan.finished.length ? ` (${plan.finished.length} finished earlier, same config)` : ''} → ${relative(process.cwd(), plan.root) || '.'}/`,
    );
    if (plan.todo.length === 0) return EXIT.ok;
    const dirs = new Map(plan.todo.map((c) => [c.id, cellDirectory(plan.root, c)]));
    const bar = createProgressBar(plan.todo.length);
    let finishedHere = 0;
    // A record or per-item file that cannot be written (disk full) stops the run at once: the cell
    // must not go on and be marked finished with records missing from its metrics.jsonl.
    let writeError: unknown = null;
    const writeFailed = new AbortController();
    const stop = AbortSignal.any([signal, writeFailed.signal]);
    const guarded =
      <A extends unknown[]>(write: (...args: A) => void) =>
      (...args: A) => {
        if (writeError) return;
        try {
          write(...args);
        } catch (err) {
          writeError = err;
          writeFailed.abort();
        }
      };
    await withSession(
      options,
      async (session, variants) => {
        const tooBig = bufferProblems(plan.todo, session.env.limits);
        if (tooBig.length) throw new ConfigError(`${config.name} does not fit this adapter:\n  ${tooBig.join('\n  ')}`);
        wrote = true;
        if (plan.clear) clearRunFolder(plan.root);
        writeJsonAtomic(join(plan.root, 'config.json'), config);
        writeJsonAtomic(join(plan.root, 'env.json'), envRecord(session, variants));
        for (const cell of plan.todo) {
          lock.check();
          if (stop.aborted) break;
          const dir = dirs.get(cell.id)!;
          beginCell(dir, cell);
          let summary;
          try {
            summary = await session.call('runCell', cell.config, cell.id, { profile: options.profile });
          } catch (err) {
            if (stop.aborted) break; // Ctrl-C or a failed write closed the page: this cell stays unfinished (--resume runs it again)
            throw err;
          }
          if (stop.aborted) break;
          finishCell(dir, { ...summary, profile: undefined }, cell.config);
          finishedHere++;
          if (summary.profile) writeProfile(dir, summary.profile);
          bar.cellDone(summary.elapsedMs);
          const diverged = summary.runs.filter((r) => r.diverged);
          const reasons = [...new Set(diverged.map((r) => r.divergedReason).filter(Boolean))];
          console.log(
            `  ${cell.id}: ${summary.steps} steps (${summary.stopped}), ${(summary.elapsedMs / 1000).toFixed(1)} s${diverged.length ? `, ${diverged.length} run(s) diverged${reasons.length ? ` (${reasons.join(', ')})` : ''}` : ''}`,
          );
          if (summary.recording) console.log(`    ${recordingLine(summary.recording)}`);
        }
        if (stop.aborted) return;
        // The page's live figures, drawn by the same code from every finished cell's records.
        const plots = await writeSweepPlots(await session.renderer(), plan.root);
        console.log(`plots: ${plots.svg.join(', ')} (+ .vl.json${plots.png.length ? ', .png' : ''})`);
      },
      {
        onTrainProgress: (event) => bar.update(event),
        onRecord: guarded((cell: string, record: unknown) => appendRecord(dirs.get(cell)!, cell, record)),
        onPerItem: guarded((cell: string, arrays: EncodedPerItem) => writePerItem(dirs.get(cell)!, arrays)),
      },
      stop,
    );
    if (writeError) {
      bar.end();
      throw writeError;
    }
    bar.end();
    // The root summary is recomputed from every finished cell's raw files (this run's and earlier ones).
    const summary = summarizeSweep(plan.root);
    writeJsonAtomic(join(plan.root, 'summary.json'), summary);
    writeSweepCsv(plan.root);
    if (signal.aborted) {
      throw new InterruptedError(
        `interrupted: ${finishedHere} of ${plan.todo.length} cell(s) finished here and saved (summary.json and metrics.csv cover them); continue with --resume`,
      );
    }
    if (summary.missing.length)
      console.log(`${summary.missing.length} cell(s) not finished here (other shards?): combine with muonlab merge`);
    console.log(`results: ${relative(process.cwd(), plan.root) || '.'}/`);
    return EXIT.ok;
  } finally {
    await lock.release({ removeIfEmpty: !wrote });
  }
}

/**
 * `muonlab run CONFIG.json` with a transformer config (harness/transformerRun.ts): metrics.jsonl,
 * checkpoint.mlck every checkpoint.every steps, summary.json; `--resume` continues from the checkpoint.
 */
async function runTransformerCommand(options: Options, raw: Record<string, unknown>): Promise<number> {
  if (options.shard || options.validate)
    throw new UsageError(
      `run: ${options.shard ? '--shard' : '--validate'} is not available for transformer configs (one run per config; GPU-vs-CPU checks are in npm test)`,
    );
  const plan = planTransformerRun(raw, { out: options.out ?? join(process.cwd(), 'runs'), resume: options.resume });
  const c = plan.config;
  console.log(
    `${c.name}: transformer L=${c.model.layers} d=${c.model.dModel} H=${c.model.heads} V=${c.model.vocab}, ${c.training.seeds.length} replica(s), ` +
      `${c.training.steps} steps${plan.resumeStep !== undefined ? `, resuming at step ${plan.resumeStep}` : ''} → ${relative(process.cwd(), plan.root) || '.'}/`,
  );
  beginTransformerRun(plan);
  const bar = createProgressBar(1);
  return withSession(
    options,
    async (session, variants) => {
      writeJsonAtomic(join(plan.root, 'env.json'), envRecord(session, variants));
      const summary = await session.call('runTransformer', c, { resume: plan.resume, profile: options.profile });
      finishTransformerRun(plan, summary);
      if (summary.profile) writeProfile(plan.root, summary.profile);
      bar.end();
      for (const r of summary.final)
        console.log(`  replica ${r.replica} (seed ${r.seed}): step ${r.step} loss ${r.loss.toFixed(4)} accuracy ${r.accuracy.toFixed(3)}`);
      console.log(
        `${summary.steps - summary.startStep} steps in ${(summary.elapsedMs / 1000).toFixed(1)} s: ${summary.tokensPerSecond.toFixed(0)} tokens/s, ${summary.gflops.toFixed(2)} GFLOP/s; ` +
          `${summary.parameters} parameters and ${summary.activations} activations per replica, ${(summary.gpuBytes / 2 ** 20).toFixed(1)} MiB of GPU buffers`,
      );
      return 0;
    },
    {
      onTrainProgress: (event) => bar.update(event),
      onTransformerRecord: (record) => appendTransformerRecord(plan, record),
      onCheckpoint: (data) => writeCheckpoint(plan, data),
    },
  );
}

/** `muonlab merge DIR…`: combines shard folders; a preset's report is recomputed in the page. */
async function runMergeCommand(options: Options): Promise<number> {
  const out = options.out ?? defaultMergeOut(options.positionals);
  const lock = await lockResults(resolve(out), options);
  let merged: ReturnType<typeof mergeRuns> | undefined;
  try {
    merged = mergeRuns(options.positionals, out);
    for (const [dir, n] of Object.entries(merged.copied)) console.log(`  ${relative(process.cwd(), dir) || '.'}: ${n} cell(s) copied`);
    if (merged.kept)
      console.log(`  ${relative(process.cwd(), merged.root) || '.'}: ${merged.kept} cell(s) already there (same config) kept`);
    if (merged.missing.length) {
      console.error(
        `muonlab: ${merged.missing.length} cell(s) have no result in any input: ${merged.missing.slice(0, 8).join(', ')}${merged.missing.length > 8 ? ', …' : ''}`,
      );
    }
    if (merged.kind === 'preset' && merged.missing.length === 0) {
      const m = merged.manifest!;
      const root = merged.root;
      await withSession(options, async (session) => {
        const { results } = collectPresetResults(root, m.cells);
        const report = await session.call('summarizePreset', m.preset, m.scale, results);
        // Labelled with where the shards ran (their env.json), not with the merging session's adapter.
        await writePresetReport(
          await session.renderer(),
          root,
          report,
          ranOnFromEnvFiles(options.positionals.map((p) => join(p, 'env.json'))),
        );
      });
    }
    if (merged.kind === 'config' && merged.summary?.cells.length) {
      // Config merges get the figures of their cells too (muonlab report, no GPU needed).
      const figures = (await reportFolder(merged.root)).filter((f) => f.endsWith('.svg'));
      console.log(`figures: ${figures.join(', ')}`);
    }
    if (merged.summary)
      console.log(
        `${merged.summary.cells.length} cell(s), ${merged.summary.fits.length} fit(s) recomputed → ${relative(process.cwd(), join(merged.root, 'summary.json'))}`,
      );
    console.log(`merged: ${relative(process.cwd(), merged.root) || '.'}/`);
    return merged.missing.length ? EXIT.failure : EXIT.ok;
  } finally {
    await lock.release({ removeIfEmpty: merged === undefined });
  }
}

/**
 * The exit status of a preset run: 1 only when a prediction disagrees with its measurement;
 * inconclusive and reported rows never fail a run (nor count as agreement).
 *
 * @example
 * presetExitStatus(report.predictions); // 0 when no row's verdict is 'disagrees'
 */
export function presetExitStatus(predictions: readonly PredictionRecord[]): number {
  return predictions.some((p) => p.verdict === 'disagrees') ? EXIT.failure : EXIT.ok;
}

/**
 * `npm start`'s closing line: it counts disagreements only; inconclusive rows (the data cannot
 * decide) are said apart, so a default run never ends on a false alarm.
 *
 * @example
 * startClosingLine(predictions); // 'No prediction disagrees with the measurements. 2 inconclusive (…).'
 */
export function startClosingLine(predictions: readonly PredictionRecord[]): string {
  const disagreements = predictions.filter((p) => p.verdict === 'disagrees').length;
  const inconclusive = predictions.filter((p) => p.verdict === 'inconclusive').length;
  return (
    `${disagreements ? `${disagreements} prediction(s) disagree with the measurements: see the reports.` : 'No prediction disagrees with the measurements.'}` +
    `${inconclusive ? ` ${inconclusive} inconclusive (listed in the reports, not counted as disagreements).` : ''}`
  );
}

/**
 * Ctrl-C / SIGTERM while a command runs: the first one aborts `signal` (the session closes, the
 * command saves what finished and exits 130); a second one exits at once.
 */
function interruptOnSignals(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  let first = 0;
  const onSignal = () => {
    // signal-exit 3 (under proper-lockfile) re-raises a signal when it counts as many listeners as
    // exit handlers; such an echo arrives at once and is not the user pressing Ctrl-C again.
    if (controller.signal.aborted) {
      if (Date.now() - first > 1000) process.exit(EXIT.interrupted);
      return;
    }
    first = Date.now();
    process.stderr.write('\nmuonlab: interrupted — saving what finished (press Ctrl-C again to quit at once)\n');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/**
 * Runs one command line; returns the exit status (EXIT in harness/errors.ts). Errors print as one
 * or a few lines, with the stack only under --debug.
 *
 * @example
 * process.exitCode = await main(['run', 'b-balance-onestep', '--scale', 'ci']);
 */
export async function main(argv: string[]): Promise<number> {
  // `slurm` has its own options (harness/slurmArgs.ts); it forwards the run options to its tasks.
  if (argv[0] === 'slurm') return runSlurmCommand(argv.slice(1));
  let options: Options;
  try {
    options = parseCommandLine(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`muonlab: ${err.message}\n(muonlab help: every command and option)`);
      return EXIT.usage;
    }
    throw err;
  }
  const interrupt = options.command === 'serve' ? null : interruptOnSignals();
  try {
    return await runCommand(options, interrupt?.signal ?? new AbortController().signal);
  } catch (err) {
    if (interrupt?.signal.aborted && !(err instanceof UsageError) && !(err instanceof ConfigError)) {
      console.error(
        `muonlab: ${err instanceof InterruptedError ? err.message : 'interrupted; finished cells are saved (continue with --resume)'}`,
      );
      if (options.debug) console.error(describeError(err, true));
      return EXIT.interrupted;
    }
    console.error(`muonlab: ${describeError(err, options.debug)}`);
    return exitCodeOf(err);
  } finally {
    interrupt?.dispose();
  }
}

async function runCommand(options: Options, signal: AbortSignal): Promise<number> {
  const kernels: string[] = options.positionals.length ? options.positionals : [...KERNEL_NAMES];
  switch (options.command) {
    case 'help':
      console.log(USAGE);
      return EXIT.ok;
    case 'schema':
      console.log(JSON.stringify(options.positionals[0] === 'transformer' ? transformerJsonSchema() : experimentJsonSchema(), null, 2));
      return EXIT.ok;
    case 'serve': {
      const server = await serveStatic(await ensureAppBuilt((m) => console.error(m)));
      console.log(`muonlab page: ${server.url}  (open it in Chrome or Edge ≥ 113; Ctrl-C stops)`);
      await new Promise<void>((done) => {
        process.once('SIGINT', done);
        process.once('SIGTERM', done);
      });
      await server.close();
      return EXIT.ok;
    }
    case 'presets':
      printPresets();
      return EXIT.ok;
    case 'run': {
      if ((PRESET_NAMES as string[]).includes(options.positionals[0])) {
        const name = options.positionals[0];
        const scale = options.scale ?? 'quick';
        const lock = await lockResults(presetDir(name, scale, options.out), options);
        try {
          return await withSession(
            options,
            async (session, variants) => {
              const report = await runPresetToDisk(session, variants, name, scale, options.out, options.profile, {
                shard: options.shard,
                resume: options.resume,
                lock,
              });
              return presetExitStatus(report?.predictions ?? []);
            },
            {},
            signal,
          );
        } finally {
          await lock.release({ removeIfEmpty: true });
        }
      }
      {
        // A transformer config (muonlab.transformer/1, src/model/config.ts) has its own schema and runner.
        // Unreadable or not JSON: the experiment loader below reports it (exit 64, naming the file).
        const file = resolve(options.positionals[0]);
        let raw: unknown;
        try {
          raw = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
        } catch {
          raw = undefined;
        }
        if (raw && typeof raw === 'object' && isTransformerConfig(raw as Record<string, unknown>)) {
          return await runTransformerCommand(options, applyOverrides(raw as Record<string, unknown>, options.set ?? []));
        }
      }
      if (options.validate) {
        const config = loadExperiment(options.positionals[0], options.set ?? []);
        const cells = expandSweep(config);
        const tooBig = validationSizeProblems(cells[0].config);
        if (tooBig.length)
          throw new ConfigError(
            `--validate runs the Float64 CPU reference and needs a small config: ${tooBig.join(', ')}; shrink it with --set`,
          );
        return await withSession(
          options,
          async (session) => {
            await runValidation(session, config, { out: options.out ?? join(process.cwd(), 'runs'), steps: options.steps });
            return EXIT.ok;
          },
          {},
          signal,
        );
      }
      return await runExperiment(options, signal);
    }
    case 'merge':
      return await runMergeCommand(options);
    case 'report':
      for (const dir of options.positionals) {
        if (!existsSync(resolve(dir))) throw new UsageError(`report: ${dir}: no such folder`);
        // One writer per folder: a run or merge still writing this folder holds its lock.
        const lock = await lockResults(resolve(dir), options);
        try {
          const written = await reportFolder(dir);
          console.log(
            `${relative(process.cwd(), resolve(dir)) || '.'}: ${written.length} file(s) written (${written.filter((f) => f.startsWith('plots/')).length} figure files)`,
          );
        } finally {
          await lock.release();
        }
      }
      return EXIT.ok;
    case 'env':
      return await withSession(
        options,
        async (session, variants) => {
          const env = envRecord(session, variants);
          if (!emitJson(options.json, env)) printEnv(env);
          return EXIT.ok;
        },
        {},
        signal,
      );
    case 'check':
      return await withSession(
        options,
        async (session) => {
          const report = await runCheck(session, kernels);
          if (!emitJson(options.json, report)) printCheck(report.rows);
          return report.failed === 0 ? EXIT.ok : EXIT.failure;
        },
        {},
        signal,
      );
    case 'bench':
      return await withSession(
        options,
        async (session, variants) => {
          const report = await runBench(session, variants, options, kernels);
          if (!emitJson(options.json, report)) printBench(report.rows);
          return EXIT.ok;
        },
        {},
        signal,
      );
    case 'start':
      return await withSession(
        options,
        async (session, variants) => {
          const root = resolve(options.out ?? join(process.cwd(), 'runs'));
          const dir = join(root, runId('kernels'));
          const env = envRecord(session, variants);
          writeJsonAtomic(join(dir, 'env.json'), env);
          printEnv(env);
          console.log('\nchecking every kernel against the Float64 CPU reference…');
          const check = await runCheck(session, kernels);
          writeJsonAtomic(join(dir, 'check.json'), check);
          console.log(
            `${check.passed} passed, ${check.failed} failed (table: muonlab check; file: ${relative(process.cwd(), join(dir, 'check.json'))})`,
          );
          if (check.failed) printCheck(check.rows.filter((r) => !r.pass));
          const scale = options.scale ?? 'quick';
          const reports: string[] = [];
          const predictions: PredictionRecord[] = [];
          for (const name of ['b-balance-onestep', 'c-capacity-onestep']) {
            const report = await runPresetToDisk(session, variants, name, scale, root);
            predictions.push(...(report?.predictions ?? []));
            reports.push(relative(process.cwd(), join(root, `${name}-${scale}`, 'report.md')));
          }
          console.log(`\nreports:\n${reports.map((r) => `  ${r}`).join('\n')}`);
          console.log(startClosingLine(predictions));
          return check.failed === 0 ? EXIT.ok : EXIT.failure;
        },
        {},
        signal,
      );
  }
}
