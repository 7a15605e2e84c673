// `muonlab slurm` against a real Slurm: a single-node cluster from Debian's packages (test/localSlurm.ts)
// runs b-balance-onestep at ci scale as a 2-task job array plus its merge job, and the merged report
// must carry the same figures as a run of the whole preset on one machine. A second sweep loses one
// array task to scancel; resubmitting the same command runs only that shard and leaves the finished
// shard's result untouched. Where Slurm cannot start (not installed, not root) the tests are skipped
// with the reason printed; under CI=true a missing installation fails instead (.ci/run installs it).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { PROJECT_ROOT } from '../harness/server';
import { queryQueue, ACTIVE_STATES } from '../harness/slurmScheduler';
import { readSlurmRecord } from '../harness/slurmRecord';
import { startLocalSlurm, type LocalSlurm } from './localSlurm';

const PRESET = ['b-balance-onestep', '--scale', 'ci'];
const RUN_FOLDER = 'b-balance-onestep-ci';
const MINUTE = 60_000;

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
  seconds: number;
}

function muonlab(args: string[]): Promise<Ran> {
  const started = performance.now();
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [join(PROJECT_ROOT, 'bin', 'muonlab.js'), ...args], {
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', fail);
    child.on('close', (code) => done({ code: code ?? -1, stdout, stderr, seconds: (performance.now() - started) / 1000 }));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, timeoutMs: number, probe: () => T | null | undefined | false): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(500);
  }
}

/** JobState and ExitCode of a job, or of each task of an array job, from `scontrol show job -o`. */
function jobStates(id: string): { id: string; state: string; exit: string; reason: string }[] {
  const result = spawnSync('scontrol', ['show', 'job', '-o', id], { encoding: 'utf8' });
  return result.stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((line) => {
      const field = (name: string) => new RegExp(`(?:^| )${name}=(\\S+)`).exec(line)?.[1] ?? '';
      const task = field('ArrayTaskId');
      return {
        id: task ? `${field('ArrayJobId')}_${task}` : field('JobId'),
        state: field('JobState'),
        exit: field('ExitCode'),
        reason: field('Reason'),
      };
    });
}

function isActive(id: string): boolean {
  const queue = queryQueue([id]);
  if (!queue.ok) throw new Error(`squeue: ${queue.message}`);
  return queue.jobs.some((j) => ACTIVE_STATES.has(j.state));
}

/** The figures of a preset summary: everything but timings, timestamps and file lists. */
function figures(dir: string): { settings: unknown; predictions: unknown; measurements: unknown } {
  const s = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
  return { settings: s.settings, predictions: s.predictions, measurements: s.measurements };
}

/** The cells with a result.json in a shard's run folder. */
function finishedCells(shardDir: string): string[] {
  const cells = join(shardDir, RUN_FOLDER, 'cells');
  return existsSync(cells) ? readdirSync(cells).filter((c) => existsSync(join(cells, c, 'result.json'))) : [];
}

const submitted = (stdout: string) => /submitted array job (\d+) .* merge job (\d+)/.exec(stdout);

let slurm: LocalSlurm | null = null;
let skipReason = '';
let single = '';

beforeAll(async () => {
  const started = await startLocalSlurm();
  if (!started.ok) {
    if (process.env.CI && started.missing) throw new Error(`CI=true but ${started.reason} (.ci/run installs them)`);
    skipReason = `Slurm cannot start here, the Slurm tests are skipped: ${started.reason}`;
    console.warn(skipReason);
    return;
  }
  slurm = started.slurm;
  Object.assign(process.env, slurm.env);
  console.log(`local Slurm up in ${slurm.dir}`);
  // The single-machine reference; it also fills the variant cache the array tasks then share, so
  // every shard runs the kernels this run ran.
  single = mkdtempSync(join(tmpdir(), 'muonlab-single-'));
  const run = await muonlab(['run', ...PRESET, '--out', single]);
  expect(run.code, run.stderr).toBe(0);
  console.log(`single-machine run: ${run.seconds.toFixed(1)} s`);
}, 10 * MINUTE);

afterAll(async () => {
  await slurm?.stop();
}, 2 * MINUTE);

describe('muonlab slurm on a single-node Slurm', () => {
  test(
    '2 shards as a job array, merge job after it: the merged report has the single-machine figures',
    async (ctx) => {
      if (!slurm) return ctx.skip(skipReason);
      const out = join(mkdtempSync(join(tmpdir(), 'muonlab-sweep-')), 'sweep');
      const t0 = performance.now();
      const submit = await muonlab(['slurm', ...PRESET, '--shards', '2', '--out', out]);
      expect(submit.code, submit.stderr).toBe(0);
      expect(submit.stderr).toContain(`warning: --out ${out} is under /tmp`);
      const ids = submitted(submit.stdout);
      expect(ids, submit.stdout).not.toBeNull();
      const [, arrayId, mergeId] = ids!;
      expect(jobStates(mergeId)[0].reason).toMatch(/Dependency|None/);

      await waitFor('the merge job to end', 15 * MINUTE, () => !isActive(arrayId) && !isActive(mergeId));
      console.log(`slurm sweep, submit to merged: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      const tasks = jobStates(arrayId);
      expect(tasks.map((t) => [t.id, t.state, t.exit]).sort()).toEqual([
        [`${arrayId}_0`, 'COMPLETED', '0:0'],
        [`${arrayId}_1`, 'COMPLETED', '0:0'],
      ]);
      expect(
        jobStates(mergeId).map((t) => [t.state, t.exit]),
        readFileSync(join(out, 'logs', `merge-${mergeId}.out`), 'utf8'),
      ).toEqual([['COMPLETED', '0:0']]);

      // Each task wrote its own shard: one cell each, together both embeddings.
      const perShard = [0, 1].map((k) => finishedCells(join(out, `shard-${k}`)));
      expect(perShard.map((c) => c.length)).toEqual([1, 1]);
      expect(perShard.flat().sort()).toEqual(['coupled-rotation', 'identity']);
      expect(figures(join(out, 'merged'))).toEqual(figures(join(single, RUN_FOLDER)));
      expect(existsSync(join(out, 'merged', 'report.md'))).toBe(true);
      expect(existsSync(join(out, 'merged', 'plots', 'delta-vs-loss.png'))).toBe(true);

      const status = await muonlab(['slurm', 'status', out, '--json']);
      expect(status.code, status.stderr).toBe(0);
      const s = JSON.parse(status.stdout);
      expect(s.finishedCells).toBe(2);
      expect(s.merged).toBe(true);
      expect(s.shards.map((x: { job: string; state: string }) => [x.job, x.state])).toEqual([
        [`${arrayId}_0`, 'COMPLETED'],
        [`${arrayId}_1`, 'COMPLETED'],
      ]);
      expect(s.notes.join(' ')).toMatch(/sacct: .*accounting storage is disabled/);
    },
    20 * MINUTE,
  );

  test(
    'a cancelled array task: resubmitting runs only its shard and keeps the finished one',
    async (ctx) => {
      if (!slurm) return ctx.skip(skipReason);
      const out = join(mkdtempSync(join(tmpdir(), 'muonlab-sweep-')), 'sweep');
      const args = ['slurm', ...PRESET, '--shards', '2', '--out', out];
      const first = await muonlab(args);
      expect(first.code, first.stderr).toBe(0);
      const [, arrayId, mergeId] = submitted(first.stdout)!;

      // Cancel task 1 as soon as it runs: a task this young cannot have finished its cell.
      // RUNNING comes before the task script's first line: wait for that line too, so the attempt is
      // on record (its log is what shows the resubmission ran the shard a second time).
      const log1 = join(out, 'logs', 'shard-1.out');
      await waitFor(
        `task ${arrayId}_1 to run`,
        5 * MINUTE,
        () =>
          jobStates(arrayId).some((t) => t.id === `${arrayId}_1` && t.state === 'RUNNING') &&
          existsSync(log1) &&
          /muonlab: shard 2\/2 on/.test(readFileSync(log1, 'utf8')),
      );
      expect(spawnSync('scancel', [`${arrayId}_1`]).status).toBe(0);
      await waitFor(`the array ${arrayId} to end`, 10 * MINUTE, () => !isActive(arrayId));
      const states = Object.fromEntries(jobStates(arrayId).map((t) => [t.id, t.state]));
      expect(states).toEqual({ [`${arrayId}_0`]: 'COMPLETED', [`${arrayId}_1`]: 'CANCELLED' });
      const [done] = finishedCells(join(out, 'shard-0'));
      expect(finishedCells(join(out, 'shard-1'))).toEqual([]);
      const finished = join(out, 'shard-0', RUN_FOLDER, 'cells', done, 'result.json');
      const lost = join(out, 'shard-1', RUN_FOLDER, 'cells', done === 'identity' ? 'coupled-rotation' : 'identity', 'result.json');
      // afterok can never be met now: the merge job waits for ever (slurmctld notices on its next pass).
      await waitFor(
        `merge job ${mergeId} to be DependencyNeverSatisfied`,
        3 * MINUTE,
        () => jobStates(mergeId)[0]?.reason === 'DependencyNeverSatisfied',
      );
      expect(jobStates(mergeId)[0].state).toBe('PENDING');

      const before = await muonlab(['slurm', 'status', out, '--json']);
      const s1 = JSON.parse(before.stdout);
      expect(s1.shards.map((x: { finished: number; state: string }) => [x.finished, x.state])).toEqual([
        [1, 'COMPLETED'],
        [0, 'CANCELLED'],
      ]);
      expect((await muonlab(['slurm', 'status', out])).stdout).toContain('resubmit them with');

      const kept = { bytes: readFileSync(finished, 'utf8'), mtimeMs: statSync(finished).mtimeMs };
      const t0 = performance.now();
      const again = await muonlab(args);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toContain('shard 0: 1 cell(s), 1 finished on disk — not resubmitted');
      expect(again.stdout).toContain(`cancelled the earlier merge job ${mergeId}`);
      const [, arrayId2, mergeId2] = submitted(again.stdout)!;
      expect(again.stdout).toContain(`tasks 1 of 0-1`);
      expect(readSlurmRecord(out)!.submissions.map((x) => x.tasks)).toEqual([[0, 1], [1]]);

      await waitFor('the second merge job to end', 15 * MINUTE, () => !isActive(arrayId2) && !isActive(mergeId2));
      console.log(`resubmission to merged: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      expect(jobStates(arrayId2).map((t) => [t.id, t.state])).toEqual([[`${arrayId2}_1`, 'COMPLETED']]);
      expect(jobStates(mergeId2).map((t) => t.state)).toEqual(['COMPLETED']);
      expect(jobStates(mergeId).map((t) => t.state)).toEqual(['CANCELLED']);

      // The finished shard was not run again: same bytes, same file; its log has one attempt.
      expect(readFileSync(finished, 'utf8')).toBe(kept.bytes);
      expect(statSync(finished).mtimeMs).toBe(kept.mtimeMs);
      expect(readFileSync(join(out, 'logs', 'shard-0.out'), 'utf8').match(/muonlab: shard 1\/2 on/g)).toHaveLength(1);
      expect(readFileSync(join(out, 'logs', 'shard-1.out'), 'utf8').match(/muonlab: shard 2\/2 on/g)).toHaveLength(2);
      expect(existsSync(lost)).toBe(true);
      expect(figures(join(out, 'merged'))).toEqual(figures(join(single, RUN_FOLDER)));

      const after = JSON.parse((await muonlab(['slurm', 'status', out, '--json'])).stdout);
      expect([after.finishedCells, after.merged]).toEqual([2, true]);
    },
    30 * MINUTE,
  );
});
