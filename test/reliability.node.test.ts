// Issue 14 "Nothing silently wrong": every bad input a new user tried (configs, flags, merge inputs,
// share links, server requests) must fail with the documented exit status, a message that names the
// field, and no partial results; and the faults (kill -9 + --resume, a changed config on resume, two
// writers, a full disk, a lost device) must leave results that are whole and never mixed.
//
// Bad inputs run the CLI in-process (`main(argv)`), so the 60+ cases cost milliseconds each and no
// browser; the fault tests further down start the real CLI (bin/muonlab.js) and Chromium with tiny
// configs. Expected messages and exit codes are the ones README promises, written here.
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { main, presetExitStatus, startClosingLine } from '../harness/cli';
import { verdictLine } from '../harness/presetRun';
import { cCapacityOnestep } from '../src/experiments/presets/cCapacityOnestep';
import { agreementSentence, withVerdicts, type PredictionRecord } from '../src/experiments/presets/types';
import { readPresetSummary } from '../src/experiments/results';
import { PROJECT_ROOT, serveStatic, resolveRequest, type StaticServer } from '../harness/server';
import { findChromium } from '../harness/flags';
import { openSession } from '../harness/session';
import { appendRecord, beginCell, cellDirectory, clearRunFolder, finishCell, planRun } from '../harness/run';
import { mergeRuns, summarizeSweep } from '../harness/merge';
import { configDigest } from '../harness/digest';
import { appendLine, readJsonLines, writeJsonAtomic } from '../harness/files';
import { parseExperimentConfig } from '../src/experiments/config';
import { OUTPUT_COLUMNS } from '../src/experiments/bounds';
import { SOFTMAX_OUTPUT_COLUMNS } from '../src/kernels/softmaxGrad/softmaxGrad';
import { autorunDecision, decodeShareHash, encodeShareHash } from '../src/ui/shareLink';
import { checkConfigText } from '../src/ui/configValidation';

const scratch = mkdtempSync(join(tmpdir(), 'muonlab-reliability-'));
let serial = 0;
const fresh = (name = 'd') => {
  const dir = join(scratch, `${name}-${++serial}`);
  mkdirSync(dir, { recursive: true });
  return dir;
};

/** A small valid config; cases change one thing. */
const base = () => ({
  name: 'tiny',
  task: { N: 12, dIn: 12, dOut: 12, embedding: 'identity' },
  optimizers: [{ name: 'gd', lr: 1 }],
  training: { steps: 2 },
  sweep: [{ path: 'task.taskSeed', values: [1, 2] }],
});

/** Every file (not folder) below `dir`: "no partial results" means none. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return lstatSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

/** Runs the CLI in this process; returns the exit status and what it printed. */
async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  try {
    const code = await main(argv);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

function configFile(config: unknown, dir = fresh('cfg')): string {
  const file = join(dir, 'config.json');
  writeFileSync(file, typeof config === 'string' ? config : JSON.stringify(config));
  return file;
}

interface Case {
  name: string;
  argv: (out: string) => string[];
  code: number;
  /** Must all appear in stderr (the field, the hint). */
  says: (string | RegExp)[];
}

const with_ = (patch: (c: ReturnType<typeof base>) => unknown) => {
  const c = base();
  return patch(c) ?? c;
};
const run =
  (config: unknown, ...flags: string[]) =>
  (out: string) => ['run', configFile(config), '--out', out, ...flags];

// ---------------------------------------------------------------------------------------------
// Bad configs: exit 64, the message names the field, nothing written.
const configCases: Case[] = [
  {
    name: 'unknown key in task',
    argv: run(with_((c) => void Object.assign(c.task, { bogus: 1 }))),
    code: 64,
    says: ['task.bogus: unknown key'],
  },
  {
    name: 'typo in metrics',
    argv: run(with_((c) => void Object.assign(c, { metrics: { evry: 2 } }))),
    code: 64,
    says: ['metrics.evry: unknown key', 'did you mean "every"?'],
  },
  {
    name: 'typo at the top level',
    argv: run(
      with_((c) => {
        const { training, ...rest } = c;
        return { ...rest, trainig: training };
      }),
    ),
    code: 64,
    says: ['trainig: unknown key', 'did you mean "training"?'],
  },
  {
    name: '--set into a field that does not exist',
    argv: (o) => [...run(base())(o), '--set', 'task.nosuch.deep=5'],
    code: 64,
    says: ['task.nosuch', 'no such field'],
  },
  {
    name: 'sweep over a path that does not exist',
    argv: run(with_((c) => void (c.sweep = [{ path: 'task.nothere', values: [1, 2] }]))),
    code: 64,
    says: ['sweep.0.path', 'task.nothere: no such field'],
  },
  {
    name: 'two axes on one path',
    argv: run(with_((c) => void c.sweep.push({ path: 'task.taskSeed', values: [3, 4] }))),
    code: 64,
    says: ['sweep.1.path', 'already swept by sweep.0'],
  },
  {
    name: 'a value repeated on an axis',
    argv: run(with_((c) => void (c.sweep = [{ path: 'task.taskSeed', values: [1, 2, 1] }]))),
    code: 64,
    says: ['sweep.0.values.2', 'repeats sweep.0.values.0'],
  },
  {
    name: 'steps above the bound',
    argv: run(with_((c) => void (c.training.steps = 1e15))),
    code: 64,
    says: ['training.steps = 1000000000000000', '--allow-large'],
  },
  {
    name: 'N = 1e9',
    argv: run(with_((c) => void (c.task = { N: 1e9, dIn: 12, dOut: 12, embedding: 'gaussian' }))),
    code: 64,
    says: ['task.N = 1000000000', '--allow-large'],
  },
  {
    name: 'lr expression giving NaN',
    argv: run(with_((c) => void (c.optimizers[0].lr = 'log(0-1)' as never))),
    code: 64,
    says: ['optimizers.0.lr', 'NaN'],
  },
  {
    name: 'lr expression giving a negative rate',
    argv: run(with_((c) => void (c.optimizers[0].lr = '0-1' as never))),
    code: 64,
    says: ['optimizers.0.lr', '≥ 0'],
  },
  {
    name: 'lr expression overflowing',
    argv: run(with_((c) => void (c.optimizers[0].lr = 'exp(1000)' as never))),
    code: 64,
    says: ['optimizers.0.lr', 'finite'],
  },
  { name: 'negative lr number', argv: run(with_((c) => void (c.optimizers[0].lr = -1))), code: 64, says: ['optimizers.0.lr'] },
  {
    name: 'lr bad in one sweep cell only',
    argv: run(with_((c) => void (c.sweep = [{ path: 'optimizers.0.lr', values: [1, '0-2'] }] as never))),
    code: 64,
    says: ['sweep cell optimizers.0.lr=0-2', 'optimizers.0.lr'],
  },
  {
    name: 'every cell listed at once',
    argv: run(with_((c) => void (c.sweep = [{ path: 'optimizers.0.lr', values: ['0-1', 1, 'log(0-1)'] }] as never))),
    code: 64,
    says: ['(2 of 3)', 'optimizers.0.lr=0-1', 'optimizers.0.lr=log(0-1)'],
  },
  {
    name: '"d" ambiguous once d_in ≠ d_out',
    argv: run(
      with_((c) => {
        c.task = { N: 12, dIn: 8, dOut: 16, embedding: 'gaussian' };
        c.optimizers[0].lr = 'sqrt(d)' as never;
      }),
    ),
    code: 64,
    says: ['optimizers.0.lr', 'ambiguous'],
  },
  {
    name: '--validate with N = 5000',
    argv: (o) => [
      'run',
      configFile(with_((c) => void (c.task = { N: 5000, dIn: 12, dOut: 12, embedding: 'gaussian' }))),
      '--validate',
      '--out',
      o,
    ],
    code: 64,
    says: ['task.N = 5000', 'at most 1024'],
  },
  {
    name: 'unknown optimizer',
    argv: run(with_((c) => void (c.optimizers[0].name = 'lion'))),
    code: 64,
    says: ['optimizers.0.name', 'allowed'],
  },
  {
    name: 'typo in an optimizer field',
    argv: run(with_((c) => void (c.optimizers = [{ name: 'gd', lr: 1, momentom: 0.5 } as never]))),
    code: 64,
    says: ['optimizers.0.momentom: unknown key', 'did you mean "momentum"?'],
  },
  {
    name: 'typo in the frequency',
    argv: run(
      with_(
        (c) => void (c.task = { N: 12, dIn: 12, dOut: 12, embedding: 'gaussian', frequency: { kind: 'power', powerExponant: 1 } } as never),
      ),
    ),
    code: 64,
    says: ['task.frequency.powerExponant', 'did you mean "powerExponent"?'],
  },
  {
    name: 'typo in a stop rule',
    argv: run(with_((c) => void (c.training = { steps: 2, stop: { targetLos: 0.1 } } as never))),
    code: 64,
    says: ['training.stop.targetLos', 'did you mean "targetLoss"?'],
  },
  {
    name: 'typo in capacityGain',
    argv: run(with_((c) => void (c.training = { steps: 2, stop: { capacityGain: { percent: 1, windw: 3 } } } as never))),
    code: 64,
    says: ['training.stop.capacityGain.windw', 'did you mean "window"?'],
  },
  {
    name: 'typo in a sweep axis',
    argv: run(with_((c) => void (c.sweep = [{ path: 'task.taskSeed', valuse: [1, 2] } as never]))),
    code: 64,
    says: ['sweep.0.valuse', 'did you mean "values"?'],
  },
  {
    name: 'zip axes of different lengths',
    argv: run(
      with_(
        (c) =>
          void (c.sweep = [
            { path: 'task.taskSeed', values: [1, 2], zip: 'z' },
            { path: 'training.steps', values: [1, 2, 3], zip: 'z' },
          ] as never),
      ),
    ),
    code: 64,
    says: ['zip group "z"', 'different lengths'],
  },
  {
    name: 'a zip group repeating an entry',
    argv: run(
      with_(
        (c) =>
          void (c.sweep = [
            { path: 'task.taskSeed', values: [1, 1], zip: 'z' },
            { path: 'training.steps', values: [2, 2], zip: 'z' },
          ] as never),
      ),
    ),
    code: 64,
    says: ['zip group "z"', 'entry 1 repeats entry 0'],
  },
  {
    name: 'sweep into an optimizer that does not exist',
    argv: run(with_((c) => void (c.sweep = [{ path: 'optimizers.3.lr', values: [1, 2] }]))),
    code: 64,
    says: ['optimizers.3', 'outside optimizers'],
  },
  {
    name: '--set an index outside the array',
    argv: (o) => [...run(base())(o), '--set', 'optimizers.5.lr=1'],
    code: 64,
    says: ['optimizers.5', 'outside optimizers'],
  },
  {
    name: '--set one path twice',
    argv: (o) => [...run(base())(o), '--set', 'training.steps=3', '--set', 'training.steps=4'],
    code: 64,
    says: ['--set training.steps: set twice'],
  },
  { name: '--set without =', argv: (o) => [...run(base())(o), '--set', 'training.steps'], code: 64, says: ['--set: expected path=value'] },
  {
    name: '--set a value of the wrong type',
    argv: (o) => [...run(base())(o), '--set', 'training.steps=abc'],
    code: 64,
    says: ['training.steps'],
  },
  { name: 'a name with spaces', argv: run(with_((c) => void (c.name = 'Bad Name'))), code: 64, says: ['name:', 'lowercase'] },
  { name: 'a config that is not JSON', argv: run('{ "name": "tiny", '), code: 64, says: ['cannot read experiment config'] },
  {
    name: 'a config file that does not exist',
    argv: (o) => ['run', join(scratch, 'missing.json'), '--out', o],
    code: 64,
    says: ['cannot read experiment config', 'missing.json'],
  },
  { name: 'a config that is a list', argv: run([1, 2]), code: 64, says: ['an experiment config is a JSON object'] },
  {
    name: 'an unknown embedding',
    argv: run(with_((c) => void (c.task.embedding = 'random'))),
    code: 64,
    says: ['task.embedding', 'allowed: identity'],
  },
  {
    name: 'identity embeddings with dIn ≠ N',
    argv: run(with_((c) => void (c.task.dIn = 8))),
    code: 64,
    says: ['task.dIn', 'identity embeddings need dIn = N'],
  },
  {
    name: 'minibatch without a batch size',
    argv: run(with_((c) => void (c.training = { steps: 2, mode: 'minibatch' } as never))),
    code: 64,
    says: ['training.batchSize', 'minibatch training needs batchSize'],
  },
  {
    name: 'no run seeds',
    argv: run(with_((c) => void (c.training = { steps: 2, runSeeds: [] } as never))),
    code: 64,
    says: ['training.runSeeds'],
  },
  {
    name: 'a sweep above the cell bound',
    argv: run(
      with_(
        (c) =>
          void (c.sweep = [
            { path: 'task.taskSeed', values: Array.from({ length: 40 }, (_, i) => i) },
            { path: 'training.steps', values: Array.from({ length: 30 }, (_, i) => i + 1) },
          ]),
      ),
    ),
    code: 64,
    says: ['sweep: 1,200 cells', '--allow-large'],
  },
  {
    name: 'runs per cell above the bound',
    argv: run(with_((c) => void (c.training = { steps: 2, runSeeds: Array.from({ length: 300 }, (_, i) => i) } as never))),
    code: 64,
    says: ['300 runs per cell', '--allow-large'],
  },
  {
    name: 'd above the bound',
    argv: run(with_((c) => void (c.task = { N: 12, dIn: 10_000, dOut: 12, embedding: 'gaussian' }))),
    code: 64,
    says: ['task.dIn = 10000'],
  },
  {
    name: 'τ outside (0, 1)',
    argv: run(with_((c) => void Object.assign(c, { metrics: { tau: [1.5] } }))),
    code: 64,
    says: ['metrics.tau.0'],
  },
  {
    name: 'sweeping the name',
    argv: run(with_((c) => void (c.sweep = [{ path: 'name', values: ['a', 'b'] }] as never))),
    code: 64,
    says: ['sweep.0.path', '"name" cannot be swept'],
  },
  {
    name: 'a sweep path through a number',
    argv: run(with_((c) => void (c.sweep = [{ path: 'task.N.x', values: [1, 2] }]))),
    code: 64,
    says: ['task.N.x', 'task.N is a value'],
  },
  {
    name: 'a loss multiple ≤ 1',
    argv: run(with_((c) => void (c.training = { steps: 2, divergence: { lossMultiple: 0.5 } } as never))),
    code: 64,
    says: ['training.divergence.lossMultiple'],
  },
];

// Flags: exit 64 naming the flag; nothing written.
const presetRun =
  (...flags: string[]) =>
  (out: string) => ['run', 'b-balance-onestep', '--scale', 'ci', '--out', out, ...flags];
const flagCases: Case[] = [
  { name: '--shard 0/2', argv: run(base(), '--shard', '0/2'), code: 64, says: ['--shard', '1 ≤ i ≤ n'] },
  { name: '--shard 3/2', argv: run(base(), '--shard', '3/2'), code: 64, says: ['--shard', '1 ≤ i ≤ n'] },
  { name: '--shard a/b', argv: run(base(), '--shard', 'a/b'), code: 64, says: ['--shard', 'expected i/n'] },
  { name: '--shard 1/0', argv: run(base(), '--shard', '1/0'), code: 64, says: ['--shard'] },
  { name: '--set on a preset', argv: presetRun('--set', 'task.N=5'), code: 64, says: ['--set does not apply to `muonlab run PRESET`'] },
  { name: '--validate on a preset', argv: presetRun('--validate'), code: 64, says: ['--validate does not apply to `muonlab run PRESET`'] },
  { name: '--force-new on a preset', argv: presetRun('--force-new'), code: 64, says: ['--force-new does not apply'] },
  {
    name: '--scale on a config',
    argv: run(base(), '--scale', 'quick'),
    code: 64,
    says: ['--scale does not apply to `muonlab run CONFIG.json`'],
  },
  {
    name: '--json on a config',
    argv: run(base(), '--json', 'x.json'),
    code: 64,
    says: ['--json does not apply to `muonlab run CONFIG.json`'],
  },
  { name: '--runs on a config', argv: run(base(), '--runs', '3'), code: 64, says: ['--runs does not apply'] },
  {
    name: '--resume with --force-new',
    argv: run(base(), '--resume', '--force-new'),
    code: 64,
    says: ['--resume and --force-new exclude each other'],
  },
  {
    name: '--steps without --validate',
    argv: run(base(), '--steps', '2'),
    code: 64,
    says: ['--steps does not apply to `muonlab run CONFIG.json`'],
  },
  {
    name: '--profile with --validate',
    argv: run(base(), '--validate', '--profile'),
    code: 64,
    says: ['--profile does not apply to `muonlab run CONFIG.json --validate`'],
  },
  { name: '--shard with --validate', argv: run(base(), '--validate', '--shard', '1/2'), code: 64, says: ['--shard does not apply'] },
  {
    name: 'run something that is neither preset nor .json',
    argv: (o) => ['run', 'bogus', '--out', o],
    code: 64,
    says: ['"bogus" is neither a preset'],
  },
  { name: 'an unknown option', argv: run(base(), '--bogus'), code: 64, says: ["Unknown option '--bogus'"] },
  { name: 'an unknown scale', argv: presetRun('--scale', 'huge'), code: 64, says: ['--scale = "huge"', 'allowed: ci, quick, full'] },
  { name: 'bench --runs 0', argv: () => ['bench', '--runs', '0'], code: 64, says: ['--runs = "0"'] },
  { name: 'check an unknown kernel', argv: () => ['check', 'nokernel'], code: 64, says: ['kernel = "nokernel"', 'allowed'] },
  { name: 'env with an argument', argv: () => ['env', 'extra'], code: 64, says: ['env: takes no arguments'] },
  { name: 'presets with --out', argv: (o) => ['presets', '--out', o], code: 64, says: ['--out does not apply to `muonlab presets`'] },
  { name: 'serve with --scale', argv: () => ['serve', '--scale', 'ci'], code: 64, says: ['--scale does not apply to `muonlab serve`'] },
  { name: 'merge with --resume', argv: (o) => ['merge', o, '--resume'], code: 64, says: ['--resume does not apply to `muonlab merge`'] },
  { name: 'merge with no folders', argv: () => ['merge'], code: 64, says: ['merge: give the run folders'] },
  { name: 'an unknown command', argv: () => ['frobnicate'], code: 64, says: ['command = "frobnicate"'] },
];

// --out that cannot be a folder: exit 64 naming --out (no raw Node stack).
const outCases: Case[] = [
  {
    name: '--out naming a file',
    argv: (o) => {
      writeFileSync(join(o, 'file'), 'x');
      return ['run', configFile(base()), '--out', join(o, 'file')];
    },
    code: 64,
    says: ['--out', 'is a file, not a folder', 'ENOTDIR'],
  },
  {
    name: '--out with a 300-character name',
    argv: (o) => ['run', configFile(base()), '--out', join(o, 'x'.repeat(300))],
    code: 64,
    says: ['--out', 'file name too long'],
  },
];

describe('bad inputs: exit status, the field named, nothing left behind', () => {
  for (const c of [...configCases, ...flagCases, ...outCases]) {
    test(c.name, async () => {
      const out = fresh('out');
      const argv = c.argv(out);
      const before = filesUnder(out);
      const result = await cli(argv);
      expect(result.code, result.err).toBe(c.code);
      for (const s of c.says) {
        if (typeof s === 'string') expect(result.err).toContain(s);
        else expect(result.err).toMatch(s);
      }
      // One or a few lines, no stack trace.
      expect(result.err).not.toMatch(/^\s+at /m);
      expect(result.err.split('\n').length).toBeLessThan(12);
      expect(filesUnder(out)).toEqual(before);
    });
  }

  test('a read-only --out (a read-only tmpfs; root ignores file modes) is refused naming --out', async (ctx) => {
    const dir = fresh('ro');
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=64k', 'tmpfs', dir]);
    if (mounted.status !== 0) return ctx.skip(`cannot mount a read-only tmpfs here: ${mounted.stderr.toString().trim()}`);
    try {
      const result = await cli(['run', configFile(base()), '--out', dir]);
      expect(result.code).toBe(64);
      expect(result.err).toContain('--out');
      expect(result.err).toContain('read-only file system');
      expect(filesUnder(dir)).toEqual([]);
    } finally {
      spawnSync('umount', [dir]);
    }
  });

  test(`at least 60 bad inputs in all (${configCases.length + flagCases.length + outCases.length} here, + merge, resume, share links, server requests below)`, () => {
    expect(configCases.length + flagCases.length + outCases.length).toBeGreaterThanOrEqual(60);
  });
});

// ---------------------------------------------------------------------------------------------
/** Finished cells written the way `muonlab run` writes them (records, summary with digest). */
function writeFinished(out: string, raw: unknown, shard?: string): string {
  const config = parseExperimentConfig(raw);
  const plan = planRun(config, { out, shard });
  writeJsonAtomic(join(plan.root, 'config.json'), config);
  for (const cell of plan.todo) {
    const dir = cellDirectory(plan.root, cell);
    beginCell(dir, cell);
    for (const step of [0, cell.config.training.steps])
      appendRecord(dir, cell.id, {
        run: 0,
        optimizer: 'gd',
        runSeed: 0,
        step,
        loss: 2 - step / 10,
        capacity: step,
        diverged: false,
        divergedAtStep: null,
      });
    finishCell(
      dir,
      { cell: cell.id, runs: [], steps: cell.config.training.steps, stopped: 'steps', elapsedMs: 1, finalPerItem: [] },
      cell.config,
    );
  }
  return plan.root;
}

describe('results that cannot mix', () => {
  test('--resume with another config (--set training.steps) is refused naming the field; the folder is untouched', async () => {
    const out = fresh('resume');
    const root = writeFinished(out, { ...base(), training: { steps: 30 } });
    const before = Object.fromEntries(filesUnder(root).map((f) => [f, readFileSync(f, 'utf8')]));
    const result = await cli([
      'run',
      configFile({ ...base(), training: { steps: 30 } }),
      '--out',
      out,
      '--resume',
      '--set',
      'training.steps=20',
      '--set',
      'optimizers.0.lr=5',
    ]);
    expect(result.code).toBe(64);
    expect(result.err).toMatch(
      /holds results of another config: it differs at optimizers\.0\.lr \(1 vs 5\)|differs at training\.steps \(30 vs 20\)/,
    );
    expect(result.err).toContain('--force-new');
    expect(Object.fromEntries(filesUnder(root).map((f) => [f, readFileSync(f, 'utf8')]))).toEqual(before);
  });

  test('a fresh run into a folder of another config is refused too (not silently mixed)', async () => {
    const out = fresh('fresh');
    writeFinished(out, base());
    const result = await cli(['run', configFile(base()), '--out', out, '--set', 'training.steps=3']);
    expect(result.code).toBe(64);
    expect(result.err).toContain('differs at training.steps (2 vs 3)');
  });

  test('a finished cell whose config differs (its digest) is refused on --resume, naming the field', () => {
    const out = fresh('digest');
    const root = writeFinished(out, base());
    const config = parseExperimentConfig(base());
    const cell = planRun(config, { out }).cells[1];
    // Another run's cell copied in by hand: same id, another config.
    const dir = cellDirectory(root, cell);
    const other = { ...cell.config, training: { ...cell.config.training, steps: 7 } };
    writeJsonAtomic(join(dir, 'config.json'), other);
    finishCell(dir, { cell: cell.id, runs: [], steps: 7, stopped: 'steps', elapsedMs: 1, finalPerItem: [] }, parseExperimentConfig(other));
    expect(() => planRun(config, { out, resume: true })).toThrow(/was run with another config: it differs at training\.steps \(7 vs 2\)/);
  });

  test('an old cell summary (muonlab.cell-summary/1, no digest) is still read: its config.json decides', () => {
    const out = fresh('v1');
    const root = writeFinished(out, base());
    const config = parseExperimentConfig(base());
    const cell = planRun(config, { out }).cells[0];
    writeJsonAtomic(join(cellDirectory(root, cell), 'summary.json'), {
      schema: 'muonlab.cell-summary/1',
      cell: cell.id,
      runs: [],
      steps: 2,
      stopped: 'steps',
      elapsedMs: 1,
    });
    expect(planRun(config, { out, resume: true }).todo).toEqual([]);
    const merged = mergeRuns([root], join(fresh('v1m'), 'm'));
    expect(merged.missing).toEqual([]);
  });

  test('merge: a 300-step shard into a 20-step run folder is refused, the folder keeps its cells and count', async () => {
    const a = writeFinished(fresh('ma'), { ...base(), training: { steps: 300 } }, '1/2');
    const target = writeFinished(fresh('mt'), { ...base(), training: { steps: 20 } });
    const before = filesUnder(target).sort();
    const result = await cli(['merge', a, '--out', target]);
    expect(result.code).toBe(64);
    expect(result.err).toContain('holds results of another run: it differs from');
    expect(result.err).toContain('training.steps (300 vs 20)');
    expect(filesUnder(target).sort()).toEqual(before);
  });

  test('merge into an existing folder of the same config counts only what it copied and keeps the rest', async () => {
    const cfg = { ...base(), sweep: [{ path: 'task.taskSeed', values: [1, 2, 3] }] };
    const a = writeFinished(fresh('sa'), cfg, '1/2');
    const b = writeFinished(fresh('sb'), cfg, '2/2');
    const out = join(fresh('so'), 'merged');
    expect((await cli(['merge', a, '--out', out])).code).toBe(1); // cells of shard 2 missing
    const result = await cli(['merge', b, '--out', out]);
    expect(result.code).toBe(0);
    const copied = Number(/(\d+) cell\(s\) copied/.exec(result.out)![1]);
    const kept = Number(/(\d+) cell\(s\) already there/.exec(result.out)![1]);
    expect(copied + kept).toBe(3);
    expect(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).cells).toHaveLength(3);
  });

  const mergeCases: { name: string; setup: () => string[]; says: string[] }[] = [
    { name: 'a folder that does not exist', setup: () => [join(scratch, 'nowhere')], says: ['not a muonlab run folder'] },
    {
      name: 'shards of different configs',
      setup: () => [writeFinished(fresh('x'), base(), '1/2'), writeFinished(fresh('y'), { ...base(), training: { steps: 3 } }, '2/2')],
      says: ['mismatched configs', 'training.steps (2 vs 3)'],
    },
    {
      name: 'overlapping shards',
      setup: () => [writeFinished(fresh('x'), base(), '1/2'), writeFinished(fresh('y'), base(), '1/2')],
      says: ['is finished in both'],
    },
    {
      name: '--out that is one of the inputs',
      setup: () => {
        const a = writeFinished(fresh('x'), base());
        return [a, '--out', a];
      },
      says: ['is one of the inputs'],
    },
    {
      name: '--out a folder of other files',
      setup: () => {
        const o = fresh('junk');
        writeFileSync(join(o, 'notes.txt'), 'mine');
        return [writeFinished(fresh('x'), base()), '--out', o];
      },
      says: ['is not a muonlab run folder'],
    },
    {
      name: 'a cell tampered to another config',
      setup: () => {
        const root = writeFinished(fresh('t'), base());
        const config = parseExperimentConfig(base());
        const cell = planRun(config, { out: join(root, '..') }).cells[0];
        writeJsonAtomic(join(cellDirectory(root, cell), 'config.json'), { ...cell.config, task: { ...cell.config.task, taskSeed: 9 } });
        writeJsonAtomic(join(cellDirectory(root, cell), 'summary.json'), {
          schema: 'muonlab.cell-summary/1',
          cell: cell.id,
          runs: [],
          steps: 2,
          stopped: 'steps',
          elapsedMs: 1,
        });
        return [root];
      },
      says: ['was run with another config', 'task.taskSeed (9 vs 1)'],
    },
  ];
  for (const c of mergeCases) {
    test(`merge refuses ${c.name} (exit 64, nothing written)`, async () => {
      const args = c.setup();
      const out = args.includes('--out') ? null : join(fresh('mo'), 'merged');
      const watched = out ?? args[args.indexOf('--out') + 1];
      const before = filesUnder(watched).sort();
      const result = await cli(['merge', ...args, ...(out ? ['--out', out] : [])]);
      expect(result.code, result.err).toBe(64);
      for (const s of c.says) expect(result.err).toContain(s);
      expect(filesUnder(watched).sort()).toEqual(before);
    });
  }
});

// ---------------------------------------------------------------------------------------------
describe('one writer per folder (the lock, in-process)', () => {
  test('a second writer is refused naming the holder; a dead holder is taken over only with --resume', async () => {
    const { lockFolder, HOLDER_FILE } = await import('../harness/lock');
    const dir = fresh('lock');
    const first = await lockFolder(dir, { command: 'first' });
    await expect(lockFolder(dir, { command: 'second' })).rejects.toThrow(
      new RegExp(`another muonlab process \\(pid ${process.pid} on .*first`),
    );
    await first.release();
    const again = await lockFolder(dir, { command: 'again' });
    // Pretend the holder died (kill -9): a pid that is not running.
    writeFileSync(
      join(dir, HOLDER_FILE),
      JSON.stringify({ pid: 2 ** 22 + 12345, host: (await import('node:os')).hostname(), startedAt: 'then', command: 'crashed' }),
    );
    await expect(lockFolder(dir, { command: 'plain' })).rejects.toThrow(/no longer runs .*--resume/);
    const taken = await lockFolder(dir, { takeOverStale: true, command: 'resume' });
    expect(JSON.parse(readFileSync(join(dir, HOLDER_FILE), 'utf8')).command).toBe('resume');
    await taken.release();
    await again.release().catch(() => undefined);
  });
});

// ---------------------------------------------------------------------------------------------
describe('share links never start a full scale or an oversized run without a click', () => {
  const cases: { name: string; hash: string; action: 'run' | 'confirm' | 'none'; error?: RegExp }[] = [
    { name: 'c-capacity-onestep at full with run=1', hash: '#preset=c-capacity-onestep&scale=full&run=1', action: 'confirm' },
    { name: 'a preset at ci with run=1', hash: '#preset=b-balance-onestep&scale=ci&run=1', action: 'run' },
    {
      name: 'a config with steps 1e15 and run=1',
      hash: encodeShareHash({ kind: 'config', config: { ...base(), training: { steps: 1e15 } } as never }, true),
      action: 'confirm',
    },
    {
      name: 'a config with N = 1e9 and run=1',
      hash: encodeShareHash(
        { kind: 'config', config: { ...base(), task: { N: 1e9, dIn: 12, dOut: 12, embedding: 'gaussian' } } as never },
        true,
      ),
      action: 'confirm',
    },
    { name: 'a small config with run=1', hash: encodeShareHash({ kind: 'config', config: base() as never }, true), action: 'run' },
    { name: 'a full scale without run=1', hash: '#preset=c-capacity-onestep&scale=full', action: 'none' },
    {
      name: 'an unknown scale',
      hash: '#preset=b-balance-onestep&scale=huge&run=1',
      action: 'none',
      error: /scale = "huge" is not a scale/,
    },
    { name: 'a config cut short', hash: '#config=eyJuYW1lIjoi&run=1', action: 'none', error: /cannot be read/ },
    {
      name: 'an invalid config with run=1',
      hash: encodeShareHash({ kind: 'config', config: { ...base(), task: { bogus: 1 } } as never }, true),
      action: 'none',
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const shared = decodeShareHash(c.hash);
      if (c.error) expect(shared.error).toMatch(c.error);
      const check = shared.source?.kind === 'config' ? checkConfigText(shared.source.text) : null;
      const decision = autorunDecision(shared, check);
      expect(decision.action).toBe(c.action);
      if (c.action === 'confirm') expect(decision.reasons.join(' ')).toMatch(/full|training\.steps|task\.N/);
    });
  }
});

// ---------------------------------------------------------------------------------------------
describe('the page server: cannot be crashed or escaped', () => {
  let server: StaticServer;
  let app: string;
  beforeAll(async () => {
    const parent = fresh('srv');
    app = join(parent, 'app');
    mkdirSync(join(app, 'sub'), { recursive: true });
    writeFileSync(join(app, 'index.html'), '<p>app</p>');
    mkdirSync(join(parent, 'app-private'));
    writeFileSync(join(parent, 'app-private', 'secret.txt'), 'SECRET');
    writeFileSync(join(parent, 'outside.txt'), 'OUTSIDE');
    symlinkSync(join(parent, 'outside.txt'), join(app, 'link.txt'));
    symlinkSync(join(parent, 'app-private'), join(app, 'linkdir'));
    server = await serveStatic(app);
  });
  afterAll(async () => server?.close());

  /** A raw request line (no client-side URL normalisation). */
  const raw = (path: string) =>
    new Promise<{ status: number; body: string }>((ok, fail) => {
      const url = new URL(server.url);
      // write, not end: a half-closed socket may be dropped before the answer; Connection: close ends it.
      const socket = connect(Number(url.port), url.hostname, () =>
        socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`),
      );
      let data = '';
      socket.on('data', (d) => (data += d.toString()));
      socket.on('end', () =>
        ok({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(data)?.[1] ?? 0), body: data.split('\r\n\r\n').slice(1).join('\r\n\r\n') }),
      );
      socket.on('error', fail);
    });

  const requests: { path: string; status: number }[] = [
    { path: '/%E0%A4%A', status: 400 },
    { path: '/%', status: 400 },
    { path: '/%00', status: 400 },
    { path: '/..%2fapp-private/secret.txt', status: 403 },
    // The URL parser takes %2e%2e for `..` and resolves it too (so it stays in the app).
    { path: '/%2e%2e/app-private/secret.txt', status: 404 },
    // The URL parser resolves a literal `..` before the server sees it: it names /outside.txt in the app.
    { path: '/../outside.txt', status: 404 },
    { path: '/link.txt', status: 403 },
    { path: '/linkdir/secret.txt', status: 403 },
    { path: '/nope.js', status: 404 },
  ];
  for (const r of requests) {
    test(`GET ${r.path} → ${r.status}, and the server still answers`, async () => {
      const got = await raw(r.path);
      expect(got.status).toBe(r.status);
      expect(got.body).not.toMatch(/SECRET|OUTSIDE/);
      const ok = await raw('/');
      expect(ok.status).toBe(200);
      expect(ok.body).toContain('<p>app</p>');
    });
  }

  test('resolveRequest checks containment with a trailing separator', () => {
    expect(resolveRequest(app, '/..%2fapp-private/secret.txt')).toEqual({ status: 403 });
    expect(resolveRequest(app, '/..%2fapp/index.html')).toEqual({ file: join(app, 'index.html') });
    expect(resolveRequest(app, '/index.html')).toEqual({ file: join(app, 'index.html') });
    expect(resolveRequest(app, '/sub/')).toEqual({ status: 404 });
  });

  test('a normal request through node:http', async () => {
    const status = await new Promise<number>((ok) =>
      request(server.url, (res) => {
        res.resume();
        ok(res.statusCode ?? 0);
      }).end(),
    );
    expect(status).toBe(200);
  });
});

test('bounds.ts uses the softmax-gradient output width of the kernel', () => {
  expect(OUTPUT_COLUMNS).toBe(SOFTMAX_OUTPUT_COLUMNS.length);
});

// ---------------------------------------------------------------------------------------------
// Faults, with the real CLI and Chromium (tiny configs: each CLI run is ~10–25 s on SwiftShader,
// most of it the browser start and the page build the first run does).
const CI = Boolean(process.env.CI);
const browser = findChromium()?.path;
const BIN = join(PROJECT_ROOT, 'bin/muonlab.js');

interface Spawned {
  child: ChildProcess;
  output: () => string;
  /** Resolves when a line matching `re` was printed (stdout or stderr). */
  waitFor(re: RegExp, timeoutMs?: number): Promise<void>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function spawnCli(args: string[]): Spawned {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  const waiters: { re: RegExp; ok: () => void }[] = [];
  const onData = (d: Buffer) => {
    text += d.toString();
    for (const w of [...waiters])
      if (w.re.test(text)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.ok();
      }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((ok) =>
    child.on('exit', (code, signal) => ok({ code, signal })),
  );
  return {
    child,
    output: () => text,
    exit,
    waitFor: (re, timeoutMs = 240_000) =>
      new Promise<void>((ok, fail) => {
        if (re.test(text)) return ok();
        const timer = setTimeout(() => fail(new Error(`timed out waiting for ${re} in:\n${text}`)), timeoutMs);
        waiters.push({
          re,
          ok: () => {
            clearTimeout(timer);
            ok();
          },
        });
        void exit.then(() => setTimeout(() => fail(new Error(`exited before ${re}:\n${text}`)), 50));
      }),
  };
}

async function cliProcess(args: string[]): Promise<{ code: number | null; output: string }> {
  const p = spawnCli(args);
  const { code } = await p.exit;
  return { code, output: p.output() };
}

/** A cell's records, comparable across runs (the numbers only; order as written). */
function cellRecords(root: string): Record<string, unknown[]> {
  const cells = join(root, 'cells');
  return Object.fromEntries(
    readdirSync(cells)
      .sort()
      .map((c) => [
        c,
        readFileSync(join(cells, c, 'metrics.jsonl'), 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l)),
      ]),
  );
}

/** Temporary files of write-file-atomic are `<name>.<hash>`; none may remain. */
function strayTemporaries(dir: string): string[] {
  return filesUnder(dir).filter((f) => /\.\d+$|\.tmp$/.test(f));
}

const sweepConfig = (steps: number, perItem = false) => ({
  name: 'faults',
  task: { N: 48, dIn: 48, dOut: 48, embedding: 'identity' },
  optimizers: [
    { name: 'gd', lr: 1 },
    { name: 'muon', lr: 0.5 },
  ],
  training: { steps },
  metrics: { every: 1, perItem },
  sweep: [{ path: 'task.taskSeed', values: [1, 2, 3] }],
});

describe.skipIf(!browser && !CI)('faults, with the real CLI and browser', () => {
  test('kill -9 mid-sweep, a second writer meanwhile, then --resume equals an uninterrupted run; a changed config on resume is refused', async () => {
    const config = configFile(sweepConfig(80));
    const reference = fresh('ref');
    const interrupted = fresh('int');
    const clean = await cliProcess(['run', config, '--out', reference]);
    expect(clean.code, clean.output).toBe(0);

    const first = spawnCli(['run', config, '--out', interrupted]);
    await first.waitFor(/3 to run here/);
    // The first holds the folder's lock from here on: a second writer exits before writing anything.
    const second = await cliProcess(['run', config, '--out', interrupted]);
    expect(second.code, second.output).toBe(1);
    expect(second.output).toContain(`another muonlab process (pid ${first.child.pid} on`);
    await first.waitFor(/task\.taskSeed=1: \d+ steps/);
    first.child.kill('SIGKILL');
    expect((await first.exit).signal).toBe('SIGKILL');
    const root = join(interrupted, 'faults');
    const finishedAtKill = readdirSync(join(root, 'cells')).filter((c) => existsSync(join(root, 'cells', c, 'summary.json')));
    expect(finishedAtKill.length).toBeGreaterThanOrEqual(1);

    // The dead holder's lock: a plain run is told to resume; a changed config is refused by field.
    const plain = await cliProcess(['run', config, '--out', interrupted]);
    expect(plain.code, plain.output).toBe(1);
    expect(plain.output).toMatch(/no longer runs .*--resume/);
    const changed = await cliProcess(['run', config, '--out', interrupted, '--resume', '--set', 'training.steps=20']);
    expect(changed.code, changed.output).toBe(64);
    expect(changed.output).toContain('differs at training.steps (80 vs 20)');

    const resumed = await cliProcess(['run', config, '--out', interrupted, '--resume']);
    expect(resumed.code, resumed.output).toBe(0);
    expect(resumed.output).toContain(`(${finishedAtKill.length} finished earlier, same config)`);
    // Numbers compared: every cell's records equal the uninterrupted run's, line for line.
    expect(cellRecords(root)).toEqual(cellRecords(join(reference, 'faults')));
    const summary = (dir: string) => JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')).cells;
    expect(summary(root)).toEqual(summary(join(reference, 'faults')));
    expect(readFileSync(join(root, 'metrics.csv'), 'utf8')).toBe(readFileSync(join(reference, 'faults', 'metrics.csv'), 'utf8'));
    expect(existsSync(join(root, '.muonlab.lock'))).toBe(false);
  }, 600_000);

  test('disk full (a small tmpfs): exit 1 saying so, no temporary files, whole JSONL lines, and the folder resumes', async (ctx) => {
    const mountPoint = fresh('tmpfs');
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=192k', 'tmpfs', mountPoint]);
    if (mounted.status !== 0)
      return ctx.skip(
        `cannot mount a tmpfs here (${mounted.stderr.toString().trim() || `exit ${mounted.status}`}); the disk-full test needs one`,
      );
    try {
      const config = configFile(sweepConfig(40, true));
      const full = await cliProcess(['run', config, '--out', mountPoint]);
      expect(full.code, full.output).toBe(1);
      expect(full.output).toMatch(/no space left on the device \(disk full\)/);
      expect(full.output).not.toMatch(/^\s+at /m);
      const root = join(mountPoint, 'faults');
      expect(strayTemporaries(root)).toEqual([]);
      const cells = readdirSync(join(root, 'cells'));
      const unfinished = cells.filter((c) => !existsSync(join(root, 'cells', c, 'summary.json')));
      expect(unfinished.length).toBeGreaterThanOrEqual(1);
      for (const c of cells) {
        const text = readFileSync(join(root, 'cells', c, 'metrics.jsonl'), 'utf8');
        expect(text === '' || text.endsWith('\n')).toBe(true);
        for (const line of text.split('\n').filter(Boolean)) expect(() => JSON.parse(line)).not.toThrow();
      }
      expect(existsSync(join(root, '.muonlab.lock'))).toBe(false);
      expect(spawnSync('mount', ['-o', 'remount,size=64m', mountPoint]).status).toBe(0);
      const resumed = await cliProcess(['run', config, '--out', mountPoint, '--resume']);
      expect(resumed.code, resumed.output).toBe(0);
      const summary = JSON.parse(readFileSync(join(root, 'summary.json'), 'utf8'));
      expect(summary.missing).toEqual([]);
      expect(summary.cells).toHaveLength(3);
      expect(strayTemporaries(root)).toEqual([]);
    } finally {
      spawnSync('umount', ['-l', mountPoint]);
    }
  }, 600_000);

  test('Ctrl-C saves what finished and exits 130; the lock is released', async () => {
    const out = fresh('sigint');
    const run = spawnCli(['run', configFile(sweepConfig(80)), '--out', out]);
    await run.waitFor(/task\.taskSeed=1: \d+ steps/);
    run.child.kill('SIGINT');
    const { code } = await run.exit;
    expect(code, run.output()).toBe(130);
    expect(run.output()).toMatch(/interrupted: \d of 3 cell\(s\) finished here and saved/);
    const root = join(out, 'faults');
    const summary = JSON.parse(readFileSync(join(root, 'summary.json'), 'utf8'));
    expect(summary.cells.length).toBeGreaterThanOrEqual(1);
    expect(summary.cells.length + summary.missing.length).toBe(3);
    expect(existsSync(join(root, '.muonlab.lock'))).toBe(false);
  }, 600_000);

  test('CHROMIUM_PATH that is not a browser: exit 2 saying so, no results', async () => {
    const out = fresh('nobrowser');
    const saved = process.env.CHROMIUM_PATH;
    process.env.CHROMIUM_PATH = '/bin/true';
    try {
      const result = await cli(['run', configFile(base()), '--out', out]);
      expect(result.code, result.err).toBe(2);
      expect(result.err).toContain('/bin/true (CHROMIUM_PATH) could not be started as a Chromium browser');
      expect(result.err).not.toMatch(/^\s+at /m);
      process.env.CHROMIUM_PATH = join(scratch, 'no-such-chrome');
      const missing = await cli(['env']);
      expect(missing.code).toBe(2);
      expect(missing.err).toContain('does not exist');
    } finally {
      if (saved === undefined) delete process.env.CHROMIUM_PATH;
      else process.env.CHROMIUM_PATH = saved;
    }
    expect(filesUnder(out)).toEqual([]);
  }, 120_000);

  test('in one page session: a loss past lossMultiple × its start is divergence (reason recorded, neighbour untouched); then a device lost mid-run keeps its records', async () => {
    let onRecord: (id: string, record: unknown) => void = () => {};
    const session = await openSession({ onRecord: (id, record) => onRecord(id, record) });
    try {
      // GD at η = 1e30 on interfering (Gaussian, d < N) embeddings overshoots: a finite but blown-up loss.
      const blowUp = (lossMultiple?: number) =>
        ({
          name: 'blow-up',
          task: { N: 24, dIn: 8, dOut: 8, embedding: 'gaussian' },
          optimizers: [
            { name: 'gd', lr: 1e30 },
            { name: 'gd', lr: 1 },
          ],
          training: { steps: 3, ...(lossMultiple ? { divergence: { lossMultiple } } : {}) },
        }) as never;
      const records: { run: number; step: number; loss: number; diverged: boolean; divergedReason?: string | null }[] = [];
      onRecord = (_id, r) => void records.push(r as (typeof records)[number]);
      const cell = await session.call('runCell', blowUp(), 'blow-up', {});
      const start = records.find((r) => r.run === 0 && r.step === 0)!.loss;
      expect(start).toBeCloseTo(Math.log(24), 4);
      const last0 = records.filter((r) => r.run === 0).at(-1)!;
      expect(Number.isFinite(last0.loss)).toBe(true);
      expect(last0.loss).toBeGreaterThan(1e6 * start);
      expect([last0.diverged, last0.divergedReason]).toEqual([true, 'loss-growth']);
      // Earlier records were healthy: the first one past the bound is the diverged one, and the last kept.
      for (const r of records.filter((x) => x.run === 0 && x.step < last0.step))
        expect([r.diverged, r.loss <= 1e6 * start]).toEqual([false, true]);
      expect(cell.runs.map((r) => [r.diverged, r.divergedReason])).toEqual([
        [true, 'loss-growth'],
        [false, null],
      ]);
      expect(records.filter((r) => r.run === 1).map((r) => r.step)).toEqual([0, 1, 2, 3]);
      // The multiple is the config's: far above the blow-up, the run counts as healthy.
      records.length = 0;
      const lenient = await session.call('runCell', blowUp(1e40), 'blow-up', {});
      expect(lenient.runs[0].diverged).toBe(false);
      expect(records.filter((r) => r.run === 0).map((r) => r.step)).toEqual([0, 1, 2, 3]);

      const out = fresh('lost');
      // Long enough that the loss lands mid-cell even when records reach Node late on a loaded machine.
      const config = parseExperimentConfig(sweepConfig(3000));
      const plan = planRun(config, { out });
      const lostCell = plan.cells[0];
      const dir = cellDirectory(plan.root, lostCell);
      let received = 0;
      onRecord = (id, record) => {
        appendRecord(dir, id, record);
        received++;
      };
      beginCell(dir, lostCell);
      const running = session.call('runCell', lostCell.config, lostCell.id, {});
      running.catch(() => undefined);
      await expect.poll(() => received, { timeout: 120_000 }).toBeGreaterThan(3);
      await session.page!.evaluate(() => (window as unknown as { muonlabPage: { loseDevice(): Promise<void> } }).muonlabPage.loseDevice());
      await expect(running).rejects.toThrow(/the GPU device was lost .*records read back so far are kept/);
      const lines = readFileSync(join(dir, 'metrics.jsonl'), 'utf8');
      expect(lines.endsWith('\n')).toBe(true);
      const kept = lines
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(kept.length).toBe(received);
      expect(kept.length).toBeLessThan(2 * 3001);
      expect(existsSync(join(dir, 'summary.json'))).toBe(false);
      expect(planRun(config, { out, resume: true }).todo.map((c) => c.id)).toContain(lostCell.id);
    } finally {
      await session.close();
    }
  }, 300_000);
});

// ---------------------------------------------------------------------------------------------
describe('three-valued verdicts', () => {
  /** c-capacity-onestep's quick cells with capacities from given exponents (seed factors make no scatter within an a). */
  function capacityCells(gdExponent: (a: number) => number) {
    return cCapacityOnestep.cells('quick').map((cell) => {
      const { a, d, seed } = cell.params as { a: number; d: number; seed: number };
      const cap = (k: number, c: number) => Math.round(c * d ** k);
      const points = [
        // Large constants: rounding to whole items must not add scatter of its own.
        { a, d, seed, optimizer: 'GD', capacity: cap(gdExponent(a), 1000) },
        { a, d, seed, optimizer: 'Muon', capacity: cap(1 + 1 / (2 * a), 1000) },
        { a, d, seed, optimizer: OTHER_LABEL, capacity: cap(1, 1000) },
      ];
      return { cell, result: { points }, elapsedMs: 1 };
    });
  }
  const OTHER_LABEL = 'Muon (GPU f32 Polar Express)';

  test("c-capacity-onestep (quick): GD's c1 + c2/a fit whose 95% interval dwarfs ±0.25 is inconclusive, not a disagreement", () => {
    // GD exponents that scatter around any line in 1/a: the law's fit cannot decide c1 and c2.
    const scatter: Record<number, number> = { 1.25: 0.55, 1.5: 0.05, 2: 0.45 };
    const report = cCapacityOnestep.summarize(
      'quick',
      capacityCells((a) => scatter[a]),
    );
    const row = (name: string) => report.predictions.find((p) => p.name === name)!;
    for (const name of ['GD c1 (exponent = c1 + c2/a)', 'GD c2 (exponent = c1 + c2/a)']) {
      const p = row(name);
      expect(p.ci && p.ci[1] - p.ci[0]).toBeGreaterThan(0.5);
      expect(p.verdict).toBe('inconclusive');
      expect(p.agrees).toBe(false);
      expect(p.why).toMatch(/wider than the tolerance band ±0\.25/);
    }
    expect(report.schema).toBe('muonlab.preset-summary/2');
    expect(report.markdown).toContain('inconclusive (95% interval');
    // The exit status and the closing line count disagreements only.
    const disagreeing = report.predictions.filter((p) => p.verdict === 'disagrees').map((p) => p.name);
    expect(presetExitStatus(report.predictions)).toBe(disagreeing.length ? 1 : 0);
    expect(startClosingLine(report.predictions)).toContain('inconclusive (listed in the reports, not counted as disagreements)');
  });

  test('c-capacity-onestep (quick) data that follow the law: every row agrees, the narrow law fits included', () => {
    const report = cCapacityOnestep.summarize(
      'quick',
      capacityCells((a) => 1 / (2 * a)),
    );
    const verdicts = report.predictions.map((p) => `${p.name}: ${p.verdict}`);
    expect(verdicts.filter((v) => !v.endsWith(': agrees'))).toEqual([]);
    expect(presetExitStatus(report.predictions)).toBe(0);
    expect(startClosingLine(report.predictions)).toBe('No prediction disagrees with the measurements.');
    expect(agreementSentence(report.predictions)).toBe('Every prediction agrees with the measurement.');
  });

  test('reported rows are never agreements; a claim below its scale is inconclusive; a real miss still disagrees', () => {
    const rows: PredictionRecord[] = [
      {
        name: 'capacity ÷ d²',
        formula: 'f',
        predicted: '≈ constant across d',
        measured: 0.3,
        tolerance: 'reported',
        reported: true,
        agrees: false,
      },
      { name: 'old reported row', formula: 'f', predicted: 'x', measured: 0.3, tolerance: 'reported', agrees: true },
      { name: 'large-d law', formula: 'f', predicted: 1, measured: 1.01, tolerance: '±0.1', agrees: true, holdsFrom: 'full' },
      { name: 'a miss', formula: 'f', predicted: 1, measured: 2, ci: [1.95, 2.05], tolerance: '±0.1', agrees: false },
      { name: 'a hit', formula: 'f', predicted: 1, measured: 1.02, ci: [0.98, 1.06], tolerance: '10% relative', agrees: true },
    ];
    const quick = withVerdicts(rows, 'quick');
    expect(quick.map((p) => p.verdict)).toEqual(['reported', 'reported', 'inconclusive', 'disagrees', 'agrees']);
    expect(quick.map((p) => p.agrees)).toEqual([false, false, false, false, true]);
    expect(withVerdicts(rows, 'full')[2].verdict).toBe('agrees');
    // A preset-wide minimum scale (PresetInfo.claimsHoldFrom) makes every row below it inconclusive.
    expect(withVerdicts([rows[4]], 'ci', 'quick')[0].verdict).toBe('inconclusive');
    expect(withVerdicts(withVerdicts(rows, 'quick'), 'quick')).toEqual(quick);
    expect(presetExitStatus(quick)).toBe(1);
    expect(verdictLine(quick)).toBe('1 prediction(s) DISAGREE, 1 agree; apart: 1 inconclusive, 2 reported (not checked)');
    expect(agreementSentence(quick)).toMatch(
      /^\*\*1 prediction\(s\) disagree.*1 agree\. Apart: 1 inconclusive .*2 reported without a check\.$/,
    );
  });

  test('summary schema /2; an old /1 summary is still read (merge) and its reported rows stop counting as agreement', async () => {
    const v1 = {
      schema: 'muonlab.preset-summary/1',
      preset: 'c-multistep',
      scale: 'ci',
      createdAt: 'then',
      settings: {},
      measurements: [],
      elapsedMs: 1,
      predictions: [
        { name: 'long-run capacity ÷ d²', formula: 'f', predicted: '≈ constant', measured: 0.4, tolerance: 'reported', agrees: true },
        { name: 'GD c1', formula: 'c1', predicted: 0, measured: 1.3, ci: [-4.9, 7.5], tolerance: '±0.25', agrees: false },
        { name: 'exponent', formula: 'e', predicted: 1.5, measured: 1.52, ci: [1.45, 1.6], tolerance: '±0.25', agrees: true },
      ],
    };
    const read = readPresetSummary(v1);
    expect(read.schema).toBe('muonlab.preset-summary/2');
    expect(read.predictions.map((p) => p.verdict)).toEqual(['reported', 'inconclusive', 'agrees']);
    expect(read.predictions.map((p) => p.agrees)).toEqual([false, false, true]);
    expect(() => readPresetSummary({ ...v1, schema: 'muonlab.preset-summary/9' })).toThrow();
    // merge into a folder that holds this preset's cells and a /1 summary: read, accepted; another preset's: refused.
    const cells = [{ id: 'a=1.5,d=64,seed=1', cost: 1, params: {} }];
    const manifest = { schema: 'muonlab.preset-run/1' as const, preset: 'c-multistep', scale: 'ci' as const, cells };
    const shard = fresh('pshard');
    writeJsonAtomic(join(shard, 'preset.json'), manifest);
    writeJsonAtomic(join(shard, 'cells', cells[0].id, 'result.json'), {
      schema: 'muonlab.preset-cell/1',
      preset: 'c-multistep',
      scale: 'ci',
      cell: cells[0],
      result: {},
      elapsedMs: 1,
      createdAt: 'now',
    });
    const out = fresh('pout');
    writeJsonAtomic(join(out, 'preset.json'), manifest);
    writeJsonAtomic(join(out, 'summary.json'), v1);
    expect(mergeRuns([shard], out).missing).toEqual([]);
    writeJsonAtomic(join(out, 'summary.json'), { ...v1, preset: 'b-isotropy' });
    expect(() => mergeRuns([shard], out)).toThrow(
      /summary\.json belongs to another run: it differs at preset \("b-isotropy" vs "c-multistep"\)/,
    );
  });
});

describe('JSONL: whole lines only', () => {
  test('a cut-short last line (a crash mid-append) is dropped with a warning when read; a bad line elsewhere names file and line', () => {
    const out = fresh('jsonl');
    const root = writeFinished(out, base());
    const config = parseExperimentConfig(base());
    const cell = planRun(config, { out }).cells[0];
    const file = join(cellDirectory(root, cell), 'metrics.jsonl');
    const whole = readFileSync(file, 'utf8');
    writeFileSync(file, `${whole}{"schema":"muonlab.metrics/1","run":0,"st`);
    const warnings: string[] = [];
    const lines = readJsonLines(file, (m) => warnings.push(m));
    expect(lines).toHaveLength(whole.trim().split('\n').length);
    expect(warnings.join()).toMatch(/dropped a cut-short last line/);
    // The sweep summary reads the same records as before the cut.
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      expect(summarizeSweep(root).cells[0].runs[0].lastStep).toBe(2);
    } finally {
      error.mockRestore();
    }
    writeFileSync(file, `{"a":1}\nnot json\n{"b":2}\n`);
    expect(() => readJsonLines(file)).toThrow(/metrics\.jsonl:2: not a JSON line/);
  });

  test('appendLine adds one whole line per call', () => {
    const file = join(fresh('append'), 'x.jsonl');
    writeFileSync(file, '');
    appendLine(file, '{"a":1}');
    appendLine(file, '{"b":2}');
    expect(readFileSync(file, 'utf8')).toBe('{"a":1}\n{"b":2}\n');
  });
});

describe('--force-new and --debug', () => {
  test('--force-new plans every cell again and clears the folder but the lock, whatever config it held', async () => {
    const out = fresh('force');
    const root = writeFinished(out, { ...base(), training: { steps: 30 } });
    const config = parseExperimentConfig(base());
    expect(() => planRun(config, { out })).toThrow(/differs at training\.steps \(30 vs 2\)/);
    const plan = planRun(config, { out, forceNew: true });
    expect([plan.clear, plan.todo.length]).toEqual([true, 2]);
    const { lockFolder, LOCK_DIR } = await import('../harness/lock');
    const lock = await lockFolder(root, { command: 'force-new' });
    try {
      clearRunFolder(root);
      expect(readdirSync(root).sort()).toEqual([LOCK_DIR, '.muonlab.lock.json'].sort());
    } finally {
      await lock.release();
    }
    expect(planRun(config, { out }).todo).toHaveLength(2);
  });

  test('--debug adds the stack trace to the same message', async () => {
    const file = configFile({ ...base(), task: { ...base().task, bogus: 1 } });
    const plain = await cli(['run', file, '--out', fresh('dbg')]);
    const debug = await cli(['run', file, '--out', fresh('dbg'), '--debug']);
    expect([plain.code, debug.code]).toEqual([64, 64]);
    expect(plain.err).not.toMatch(/^\s+at /m);
    expect(debug.err).toContain('task.bogus: unknown key');
    expect(debug.err).toMatch(/^\s+at .*(config|run)\.ts/m);
  });
});

describe('folders written before a default was added', () => {
  test('a run folder whose configs lack training.divergence (older muonlab) resumes as the same config; a real difference is still named', async () => {
    const out = fresh('older');
    const root = writeFinished(out, base());
    // Rewrite it as the older muonlab did: configs without the divergence default, digests of those.
    const strip = (c: { training: Record<string, unknown> }) => ({
      ...c,
      training: Object.fromEntries(Object.entries(c.training).filter(([k]) => k !== 'divergence')),
    });
    const config = parseExperimentConfig(base());
    writeJsonAtomic(join(root, 'config.json'), strip(config as never));
    for (const cell of planRun(config, { out, forceNew: true }).cells) {
      const dir = cellDirectory(root, cell);
      const old = strip(cell.config as never);
      writeJsonAtomic(join(dir, 'config.json'), old);
      const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
      writeJsonAtomic(join(dir, 'summary.json'), { ...summary, configDigest: configDigest(old) });
    }
    expect(planRun(config, { out, resume: true }).todo).toEqual([]);
    expect(mergeRuns([root], join(fresh('older-m'), 'm')).missing).toEqual([]);
    const other = parseExperimentConfig({ ...base(), training: { steps: 5 } });
    expect(() => planRun(other, { out, resume: true })).toThrow(/differs at training\.steps \(2 vs 5\)/);
  });
});
