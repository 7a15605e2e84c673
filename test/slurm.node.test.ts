// `muonlab slurm` and `--shard auto` without a cluster: the shard read from array schedulers'
// environments, argument errors (exit 64 naming the option), the batch scripts run by bash, the
// CLI's exit codes (no sbatch → 2), and submission / resubmission / status against stand-in Slurm
// clients on PATH that log their arguments (test/slurmCluster.node.test.ts runs a real Slurm).
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { parseExperimentConfig } from '../src/experiments/config';
import { main } from '../harness/cli';
import { writeJsonAtomic } from '../harness/files';
import { cellDirectory, planRun } from '../harness/run';
import { PROJECT_ROOT } from '../harness/server';
import { resolveAutoShard } from '../harness/shardEnv';
import { parseSlurmArgs, type SlurmSubmitArgs } from '../harness/slurmArgs';
import { readSlurmRecord } from '../harness/slurmRecord';
import { arrayScript, formatArraySpec, mergeScript, type SlurmScriptInput } from '../harness/slurmScripts';
import { readSlurmStatus } from '../harness/slurmStatus';
import { nodeLocalWarning, submitSlurmSweep } from '../harness/slurmSubmit';

const SCHEDULER_VARS = [
  'SLURM_ARRAY_TASK_ID',
  'SLURM_ARRAY_TASK_MIN',
  'SLURM_ARRAY_TASK_MAX',
  'SLURM_ARRAY_TASK_COUNT',
  'SLURM_ARRAY_TASK_STEP',
  'JOB_COMPLETION_INDEX',
];

const slurmArray = (id: number, min: number, max: number, step = 1) => ({
  SLURM_ARRAY_TASK_ID: String(id),
  SLURM_ARRAY_TASK_MIN: String(min),
  SLURM_ARRAY_TASK_MAX: String(max),
  SLURM_ARRAY_TASK_COUNT: String(Math.floor((max - min) / step) + 1),
  SLURM_ARRAY_TASK_STEP: String(step),
});

describe('--shard auto', () => {
  test('Slurm array 0-(N−1): task id k is shard k+1 of SLURM_ARRAY_TASK_COUNT', () => {
    expect(resolveAutoShard(slurmArray(0, 0, 3))).toMatchObject({ shard: 1, count: 4 });
    expect(resolveAutoShard(slurmArray(3, 0, 3))).toMatchObject({ shard: 4, count: 4 });
  });

  test('Slurm arrays whose count is not the shard count need --shards (then the id is the 0-based shard)', () => {
    // A resubmitted subset (--array=1 of 2 shards), a 1-based array, a stepped array.
    expect(() => resolveAutoShard(slurmArray(1, 1, 1))).toThrow(/--shards: required .*ids 1\.\.1/);
    expect(() => resolveAutoShard(slurmArray(1, 1, 4))).toThrow(/--shards: required/);
    expect(() => resolveAutoShard(slurmArray(2, 0, 4, 2))).toThrow(/step 2/);
    expect(resolveAutoShard(slurmArray(1, 1, 1), 2)).toMatchObject({ shard: 2, count: 2 });
    expect(() => resolveAutoShard(slurmArray(4, 0, 4), 4)).toThrow(/index 4 is outside 0\.\.3/);
  });

  test('Kubernetes Indexed Job: JOB_COMPLETION_INDEX with the count from --shards', () => {
    expect(resolveAutoShard({ JOB_COMPLETION_INDEX: '0' }, 3)).toMatchObject({ shard: 1, count: 3 });
    expect(resolveAutoShard({ JOB_COMPLETION_INDEX: '2' }, 3)).toMatchObject({ shard: 3, count: 3 });
    expect(() => resolveAutoShard({ JOB_COMPLETION_INDEX: '2' })).toThrow(/--shards: required .*Kubernetes/);
    expect(() => resolveAutoShard({ JOB_COMPLETION_INDEX: '3' }, 3)).toThrow(/outside 0\.\.2/);
  });

  test('no index, both schedulers at once, or a non-number: refused with the variable named', () => {
    expect(() => resolveAutoShard({})).toThrow(/no array index in the environment \(SLURM_ARRAY_TASK_ID .*JOB_COMPLETION_INDEX/);
    expect(() => resolveAutoShard({ ...slurmArray(0, 0, 1), JOB_COMPLETION_INDEX: '0' })).toThrow(
      /both SLURM_ARRAY_TASK_ID .* and JOB_COMPLETION_INDEX/,
    );
    expect(() => resolveAutoShard({ JOB_COMPLETION_INDEX: 'x' }, 2)).toThrow(/JOB_COMPLETION_INDEX = "x" is not a non-negative integer/);
  });

  describe('muonlab run --shard auto', () => {
    const saved: Record<string, string | undefined> = {};
    beforeEach(() => {
      for (const k of SCHEDULER_VARS) {
        saved[k] = process.env[k];
        delete process.env[k];
      }
    });
    afterEach(() => {
      for (const k of SCHEDULER_VARS) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
      vi.restoreAllMocks();
    });

    test('exits 64 before any work when the environment has no index, or --shards comes without auto', async () => {
      const errors: string[] = [];
      vi.spyOn(console, 'error').mockImplementation((m: string) => void errors.push(m));
      expect(await main(['run', 'b-balance-onestep', '--scale', 'ci', '--shard', 'auto'])).toBe(64);
      expect(errors.join('\n')).toMatch(/--shard auto: no array index in the environment/);
      expect(await main(['run', 'b-balance-onestep', '--scale', 'ci', '--shard', '1/2', '--shards', '2'])).toBe(64);
      expect(errors.join('\n')).toMatch(/--shards = 2: only with --shard auto/);
      process.env.JOB_COMPLETION_INDEX = '1';
      expect(await main(['run', 'b-balance-onestep', '--scale', 'ci', '--shard', 'auto', '--shards', '0'])).toBe(64);
      expect(errors.join('\n')).toMatch(/--shards = "0": must be at least 1/);
    });
  });
});

describe('muonlab slurm arguments', () => {
  const bad = (argv: string[]) => {
    try {
      parseSlurmArgs(argv);
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error(`accepted: ${argv.join(' ')}`);
  };
  const base = ['b-balance-onestep', '--out', '/shared/s'];

  test('each bad value is named with what is allowed', () => {
    expect(bad([...base, '--shards', '0'])).toBe('--shards = "0": must be at least 1 (one array task per shard)');
    expect(bad([...base, '--shards', '1.5'])).toMatch(/^--shards = "1.5": expected a whole number/);
    expect(bad(['b-balance-onestep', '--shards', '2'])).toMatch(/^--out: required/);
    expect(bad(['b-balance-onestep', '--out', '/s'])).toMatch(/^--shards: required/);
    expect(bad([...base, '--shards', '2', '--scale', 'huge'])).toMatch(/^--scale = "huge": .*\(allowed: ci, quick, full\)/);
    expect(bad([...base, '--shards', '2', '--time', '90'])).toMatch(/^--time = "90": expected HH:MM:SS or D-HH:MM:SS/);
    expect(bad([...base, '--shards', '2', '--gpus-per-task', '0'])).toMatch(/^--gpus-per-task = "0"/);
    expect(bad([...base, '--shards', '2', '--partition', 'gpu\n#SBATCH --x'])).toMatch(/^--partition = .*expected one partition name/);
    expect(bad([...base, '--shards', '2', '--extra', '--qos=long'])).toMatch(/Option '--extra' argument is ambiguous/);
    expect(bad([...base, '--shards', '2', '--extra=--qos=long'])).toMatch(
      /^--extra = "--qos=long": expected one line starting with "#SBATCH "/,
    );
    expect(bad([...base, '--shards', '2', '--set', 'training.steps=3'])).toMatch(/^--set: applies to config files/);
    expect(bad(['exp.json', '--out', '/s', '--shards', '2', '--scale', 'ci'])).toMatch(/^--scale: applies to presets/);
    expect(bad(['nosuch', '--out', '/s', '--shards', '2'])).toMatch(/neither a preset \(allowed: .*b-balance-onestep/);
    expect(bad(['status', '/s', '--shards', '2'])).toMatch(/--shards is an option of the submission/);
  });

  test('a full submission parses; status takes DIR', () => {
    const parsed = parseSlurmArgs([
      ...base,
      '--scale',
      'ci',
      '--shards',
      '8',
      '--partition',
      'gpu',
      '--gpus-per-task',
      'a100:1',
      '--time',
      '1-02:00:00',
      '--account',
      'lab',
      '--extra',
      '#SBATCH --qos=long',
      '--dry-run',
    ]);
    expect(parsed).toMatchObject({
      command: 'submit',
      args: {
        target: 'b-balance-onestep',
        scale: 'ci',
        shards: 8,
        partition: 'gpu',
        gpusPerTask: 'a100:1',
        time: '1-02:00:00',
        account: 'lab',
        extra: ['#SBATCH --qos=long'],
        dryRun: true,
      },
    });
    expect(parseSlurmArgs(['status', '/s', '--json'])).toEqual({ command: 'status', dir: '/s', json: true });
    // --host: browser by default, node on request; anything else names the allowed values.
    expect(parsed).toMatchObject({ args: { host: 'browser' } });
    expect(parseSlurmArgs([...base, '--shards', '2', '--host', 'node'])).toMatchObject({ args: { host: 'node' } });
    expect(() => parseSlurmArgs([...base, '--shards', '2', '--host', 'gpu'])).toThrow(/--host = "gpu": .*\(allowed: browser, node\)/);
  });
});

describe('batch scripts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'muonlab-scripts-'));
  // Prints its arguments one per line: stands in for node, so bash's expansion of the script is what is checked.
  const printArgs = join(dir, 'print-args');
  writeFileSync(printArgs, '#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done\n');
  chmodSync(printArgs, 0o755);
  const out = join(dir, "it's a folder");
  const input: SlurmScriptInput = {
    out,
    name: 'b-balance-onestep',
    shards: 3,
    tasks: [0, 2],
    runFolder: 'b-balance-onestep-ci',
    runArgs: ['b-balance-onestep', '--scale', 'ci'],
    browserArgs: ['--robust'],
    muonlab: [printArgs, '/opt/muonlab/bin/muonlab.js'],
    job: { partition: 'gpu', time: '01:00:00', gpusPerTask: '1', extra: ['#SBATCH --qos=long'] },
  };
  const runScript = (text: string, env: Record<string, string>) => {
    const file = join(dir, 'job.sbatch');
    writeFileSync(file, text);
    const result = spawnSync('bash', [file], { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    return result.stdout.trim().split('\n');
  };

  test('array ranges are compressed', () => {
    expect(formatArraySpec([0, 1, 2, 5, 7, 8])).toBe('0-2,5,7-8');
    expect(formatArraySpec([3])).toBe('3');
    expect(formatArraySpec([2, 0, 1])).toBe('0-2');
  });

  test('array task k runs `muonlab run … --shard (k+1)/N --resume --out DIR/shard-k`, quoting included', () => {
    const text = arrayScript(input);
    for (const line of [
      '#SBATCH --array=0,2',
      '#SBATCH --partition=gpu',
      '#SBATCH --time=01:00:00',
      '#SBATCH --gpus-per-task=1',
      '#SBATCH --qos=long',
      '#SBATCH --requeue',
      '#SBATCH --open-mode=append',
    ]) {
      expect(text.split('\n')).toContain(line);
    }
    const lines = runScript(text, { SLURM_ARRAY_TASK_ID: '2', SLURM_ARRAY_JOB_ID: '41' });
    expect(lines[0]).toMatch(/^muonlab: shard 3\/3 on .*job 41_2, restart 0/);
    expect(lines.slice(1)).toEqual([
      '/opt/muonlab/bin/muonlab.js',
      'run',
      'b-balance-onestep',
      '--scale',
      'ci',
      '--robust',
      '--shard',
      '3/3',
      '--resume',
      '--out',
      `${out}/shard-2`,
    ]);
  });

  test('the merge job merges every shard folder into DIR/merged', () => {
    const text = mergeScript(input);
    expect(text).not.toContain('--array');
    expect(text).not.toContain('--gpus-per-task');
    const lines = runScript(text, { SLURM_JOB_ID: '42' });
    expect(lines.slice(1)).toEqual([
      '/opt/muonlab/bin/muonlab.js',
      'merge',
      ...[0, 1, 2].map((k) => `${out}/shard-${k}/b-balance-onestep-ci`),
      '--out',
      `${out}/merged`,
      '--robust',
    ]);
  });
});

// Each CLI call starts Node + tsx (seconds on a loaded 2-core machine).
const CLI_TIMEOUT = 120_000;

describe('muonlab slurm CLI', () => {
  const cli = (args: string[], env: NodeJS.ProcessEnv = process.env) =>
    spawnSync(process.execPath, [join(PROJECT_ROOT, 'bin', 'muonlab.js'), 'slurm', ...args], { env, encoding: 'utf8' });

  test(
    '--shards 0 and more shards than cells exit 64 naming the option and the cell count',
    () => {
      const zero = cli(['b-balance-onestep', '--scale', 'ci', '--shards', '0', '--out', '/shared/s']);
      expect(zero.status).toBe(64);
      expect(zero.stderr).toContain('--shards = "0": must be at least 1');
      const many = cli(['b-balance-onestep', '--scale', 'ci', '--shards', '3', '--out', '/shared/s']);
      expect(many.status).toBe(64);
      expect(many.stderr).toContain('--shards = 3: more shards than cells: b-balance-onestep at scale ci has 2 cell(s) (allowed: 1–2)');
    },
    CLI_TIMEOUT,
  );

  test(
    'no sbatch on PATH exits 2 saying so; --dry-run prints the scripts, writes nothing, warns about /tmp',
    () => {
      const out = join(mkdtempSync(join(tmpdir(), 'muonlab-cli-')), 'sweep');
      const emptyPath = mkdtempSync(join(tmpdir(), 'muonlab-path-'));
      const none = cli(['b-balance-onestep', '--scale', 'ci', '--shards', '2', '--out', out], { ...process.env, PATH: emptyPath });
      expect(none.status).toBe(2);
      expect(none.stderr).toContain('sbatch not found on PATH');
      const dry = cli(['b-balance-onestep', '--scale', 'ci', '--shards', '2', '--out', out, '--dry-run'], {
        ...process.env,
        PATH: emptyPath,
      });
      expect(dry.status, dry.stderr).toBe(0);
      expect(dry.stdout).toContain('#SBATCH --array=0-1');
      expect(dry.stdout).toContain(`--out ${out}/shard-"$SLURM_ARRAY_TASK_ID"`);
      expect(dry.stdout).toContain(`sbatch --parsable --dependency=afterok:ARRAY_JOB_ID ${out}/slurm/1/merge.sbatch`);
      expect(dry.stderr).toContain(`warning: --out ${out} is under /tmp`);
      expect(existsSync(out)).toBe(false);
    },
    CLI_TIMEOUT,
  );

  test('node-local folders are recognised', () => {
    expect(nodeLocalWarning('/tmp/x')).toMatch(/under \/tmp/);
    expect(nodeLocalWarning('/dev/shm/x')).toMatch(/under \/dev\/shm/);
    expect(nodeLocalWarning('/tmpfoo/x')).toBeNull();
    expect(nodeLocalWarning('/home/me/sweep')).toBeNull();
  });
});

describe('submission and resubmission (stand-in Slurm clients)', () => {
  const raw = {
    name: 'slurm-test',
    task: { N: 12, dIn: 12, dOut: 12, embedding: 'identity' },
    optimizers: [{ name: 'gd', lr: 1 }],
    training: { steps: 2 },
    sweep: [{ path: 'task.taskSeed', values: [1, 2, 3, 4, 5, 6] }],
  };
  let fake = '';
  let savedPath: string | undefined;
  const lines = (file: string) => (existsSync(join(fake, file)) ? readFileSync(join(fake, file), 'utf8').trim().split('\n') : []);
  const setQueue = (text: string) => writeFileSync(join(fake, 'squeue.txt'), text);
  const io = {
    logs: [] as string[],
    log(l: string) {
      this.logs.push(l);
    },
    warn(l: string) {
      this.logs.push(l);
    },
  };
  const noBuild = async () => undefined;

  beforeEach(() => {
    fake = mkdtempSync(join(tmpdir(), 'muonlab-fakeslurm-'));
    const bin = join(fake, 'bin');
    mkdirSync(bin);
    const script = (name: string, body: string) => {
      writeFileSync(join(bin, name), `#!/bin/bash\n${body}\n`);
      chmodSync(join(bin, name), 0o755);
    };
    // sbatch hands out ids 101, 102, … and logs its arguments; squeue prints squeue.txt.
    script(
      'sbatch',
      `echo "$*" >> ${fake}/sbatch.log; n=$(( $(cat ${fake}/next 2>/dev/null || echo 100) + 1 )); echo $n > ${fake}/next; echo "$n;cluster"`,
    );
    script('squeue', `cat ${fake}/squeue.txt 2>/dev/null; true`);
    script('sacct', 'echo "Slurm accounting storage is disabled" >&2; exit 1');
    script('scancel', `echo "$*" >> ${fake}/scancel.log`);
    savedPath = process.env.PATH;
    process.env.PATH = `${bin}:${process.env.PATH}`;
    io.logs = [];
  });
  afterEach(() => {
    process.env.PATH = savedPath;
  });

  function setup(shards: number) {
    const dir = mkdtempSync(join(tmpdir(), 'muonlab-sub-'));
    const file = join(dir, 'exp.json');
    writeFileSync(file, JSON.stringify(raw));
    const out = join(dir, 'sweep');
    const args = (extra: string[] = []) =>
      (parseSlurmArgs([file, '--shards', String(shards), '--out', out, ...extra]) as { args: SlurmSubmitArgs }).args;
    return { out, file, args };
  }

  /** Finishes a shard's cells the way a task does: cells chosen by run.ts's own split (--shard k/N). */
  function finishShard(out: string, shard: number, shards: number): number {
    const config = parseExperimentConfig(raw);
    const plan = planRun(config, { out: join(out, `shard-${shard - 1}`), shard: `${shard}/${shards}` });
    for (const cell of plan.todo)
      writeJsonAtomic(join(cellDirectory(plan.root, cell), 'summary.json'), { schema: 'muonlab.cell-summary/1' });
    return plan.todo.length;
  }

  test('array then merge with afterok on it; slurm.json and the config copy record them', async () => {
    const { out, args } = setup(3);
    expect(await submitSlurmSweep(args(), ['cmd'], io, noBuild)).toBe(0);
    const calls = lines('sbatch.log');
    expect(calls).toEqual([`--parsable ${out}/slurm/1/array.sbatch`, `--parsable --dependency=afterok:101 ${out}/slurm/1/merge.sbatch`]);
    expect(readFileSync(join(out, 'slurm/1/array.sbatch'), 'utf8')).toContain('#SBATCH --array=0-2\n');
    expect(readSlurmRecord(out)!.submissions).toMatchObject([{ tasks: [0, 1, 2], arrayJobId: '101', mergeJobId: '102' }]);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'))).toEqual(parseExperimentConfig(raw));
    expect(existsSync(join(out, 'logs'))).toBe(true);
    expect(io.logs.join('\n')).toContain('submitted array job 101 (tasks 0-2 of 0-2) and merge job 102');
  });

  test('resubmission: finished shards are left out, the stuck merge job is cancelled, running tasks block it', async () => {
    const { out, args } = setup(3);
    await submitSlurmSweep(args(), ['cmd'], io, noBuild);
    const finished = finishShard(out, 2, 3);
    expect(finished).toBe(2);
    setQueue('101_0|FAILED|NonZeroExitCode\n101_1|COMPLETED|None\n101_2|CANCELLED|None\n102|PENDING|DependencyNeverSatisfied\n');
    expect(await submitSlurmSweep(args(), ['cmd'], io, noBuild)).toBe(0);
    expect(lines('scancel.log')).toEqual(['102']);
    expect(lines('sbatch.log').slice(2)).toEqual([
      `--parsable ${out}/slurm/2/array.sbatch`,
      `--parsable --dependency=afterok:103 ${out}/slurm/2/merge.sbatch`,
    ]);
    expect(readFileSync(join(out, 'slurm/2/array.sbatch'), 'utf8')).toContain('#SBATCH --array=0,2\n');
    expect(readSlurmRecord(out)!.submissions.map((s) => s.tasks)).toEqual([
      [0, 1, 2],
      [0, 2],
    ]);
    expect(io.logs.join('\n')).toContain('shard 1: 2 cell(s), 2 finished on disk — not resubmitted');

    const status = await readSlurmStatus(out);
    expect(status.shards.map((s) => [s.finished, s.cells, s.job])).toEqual([
      [0, 2, '103_0'],
      [2, 2, '101_1'],
      [0, 2, '103_2'],
    ]);
    expect(status.notes.join(' ')).toMatch(/sacct: Slurm accounting storage is disabled/);

    // Task 103_0 still running: a second writer in its shard folder is refused.
    setQueue('103_0|RUNNING|None\n103_2|PENDING|Resources\n104|PENDING|Dependency\n');
    await expect(submitSlurmSweep(args(), ['cmd'], io, noBuild)).rejects.toThrow(
      /earlier array tasks are still in the queue \(103_0 RUNNING, 103_2 PENDING\)/,
    );
    expect(lines('sbatch.log')).toHaveLength(4);
  });

  test('the same folder refuses another config or shard count, naming the difference', async () => {
    const { out, args } = setup(3);
    await submitSlurmSweep(args(), ['cmd'], io, noBuild);
    await expect(submitSlurmSweep(args(['--set', 'training.steps=5']), ['cmd'], io, noBuild)).rejects.toThrow(
      /config\.json differs from this config at training\.steps/,
    );
    const two = (parseSlurmArgs([join(out, '..', 'exp.json'), '--shards', '2', '--out', out]) as { args: SlurmSubmitArgs }).args;
    await expect(submitSlurmSweep(two, ['cmd'], io, noBuild)).rejects.toThrow(/--shards = 2: .* was split into 3 shards/);
    expect(lines('sbatch.log')).toHaveLength(2);
  });

  test('every shard finished: only the merge job is submitted; once merged, nothing', async () => {
    const { out, args } = setup(2);
    await submitSlurmSweep(args(), ['cmd'], io, noBuild);
    finishShard(out, 1, 2);
    finishShard(out, 2, 2);
    setQueue('101_0|COMPLETED|None\n101_1|COMPLETED|None\n102|FAILED|NonZeroExitCode\n');
    await submitSlurmSweep(args(), ['cmd'], io, noBuild);
    expect(lines('sbatch.log').slice(2)).toEqual([`--parsable ${out}/slurm/2/merge.sbatch`]);
    expect(readSlurmRecord(out)!.submissions[1]).toMatchObject({ tasks: [], arrayJobId: null, mergeJobId: '103' });
    writeJsonAtomic(join(out, 'merged', 'summary.json'), {});
    await submitSlurmSweep(args(), ['cmd'], io, noBuild);
    expect(lines('sbatch.log')).toHaveLength(3);
    expect(io.logs.at(-1)).toMatch(/every shard is finished and merged/);
  });
});
