/**
 * The Slurm client commands muonlab calls — sbatch, squeue, sacct, scancel — run as child processes
 * with their output parsed. Which cluster they reach is Slurm's business (SLURM_CONF, the login
 * node's configuration); muonlab never talks to the daemons itself.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { userInfo } from 'node:os';
import { delimiter, join } from 'node:path';

/** sbatch is not installed here: the CLI exits 2 (no scheduler), like a missing WebGPU adapter. */
export class NoSchedulerError extends Error {}

/** A Slurm command refused or failed (the message is its own): the CLI exits 1. */
export class SchedulerError extends Error {}

/**
 * The full path of `command` on PATH, or null.
 *
 * @example
 * findOnPath('sbatch'); // '/usr/bin/sbatch' on a login node, null elsewhere
 */
export function findOnPath(command: string, path = process.env.PATH ?? ''): string | null {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const file = join(dir, command);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return null;
}

/**
 * Throws NoSchedulerError unless sbatch is on PATH.
 *
 * @example
 * requireSbatch(); // returns on a login node; throws 'sbatch not found on PATH: …' elsewhere
 */
export function requireSbatch(): void {
  if (findOnPath('sbatch')) return;
  throw new NoSchedulerError(
    'sbatch not found on PATH: submit from a Slurm login node (or load its module, e.g. `module load slurm`); ' +
      '`muonlab slurm … --dry-run` prints the scripts without submitting',
  );
}

function run(command: string, args: string[]): { ok: true; stdout: string } | { ok: false; message: string } {
  try {
    return { ok: true, stdout: execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) };
  } catch (err) {
    const e = err as { stderr?: string; message: string; code?: string };
    return { ok: false, message: (e.code === 'ENOENT' ? `${command} not found on PATH` : e.stderr?.trim()) || e.message };
  }
}

/**
 * Submits a batch script file and returns its job id (`sbatch --parsable` prints `id` or `id;cluster`).
 *
 * @example
 * const array = submitBatch('/shared/sweep/slurm/1/array.sbatch');
 * submitBatch('/shared/sweep/slurm/1/merge.sbatch', { dependency: `afterok:${array}` });
 */
export function submitBatch(scriptFile: string, options: { dependency?: string } = {}): string {
  const args = ['--parsable', ...(options.dependency ? [`--dependency=${options.dependency}`] : []), scriptFile];
  const result = run('sbatch', args);
  if (!result.ok) throw new SchedulerError(`sbatch ${args.join(' ')} failed: ${result.message}`);
  const id = result.stdout.trim().split(';')[0];
  if (!/^\d+$/.test(id)) throw new SchedulerError(`sbatch ${args.join(' ')} printed "${result.stdout.trim()}", not a job id`);
  return id;
}

/** One line of squeue or sacct about a job or an array task. */
export interface JobState {
  /** The job id (an array's job id for its tasks). */
  jobId: string;
  /** The array index, or null for a plain job. */
  task: number | null;
  /** PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, … */
  state: string;
  /** squeue's reason (Dependency, DependencyNeverSatisfied, Resources, …) or sacct's exit code. */
  detail: string;
}

export type Query = { ok: true; jobs: JobState[] } | { ok: false; message: string };

/** Parses `JOBID|STATE|DETAIL` lines where JOBID is `123`, `123_4` or `123_[4-7]` (pending, not expanded). */
function parseJobLines(text: string): JobState[] {
  const jobs: JobState[] = [];
  for (const line of text.split('\n')) {
    const [id, state, detail = ''] = line.trim().split('|');
    if (!id || !state) continue;
    const m = /^(\d+)(?:_(\d+|\[[^\]]*\]))?/.exec(id);
    if (!m) continue;
    const base = { jobId: m[1], state: state.split(' ')[0], detail };
    if (m[2] === undefined) jobs.push({ ...base, task: null });
    else if (/^\d+$/.test(m[2])) jobs.push({ ...base, task: Number(m[2]) });
    else for (const task of expandSpec(m[2].slice(1, -1))) jobs.push({ ...base, task });
  }
  return jobs;
}

/** `0-3,5%2` → [0, 1, 2, 3, 5] (the `%` throttle is dropped). */
function expandSpec(spec: string): number[] {
  const out: number[] = [];
  for (const part of spec.split('%')[0].split(',')) {
    const [a, b] = part.split('-').map(Number);
    for (let i = a; i <= (b ?? a); i++) out.push(i);
  }
  return out;
}

/**
 * The scheduler's queue (pending and running jobs, and those that ended a few minutes ago) for the
 * given job ids, array tasks one per line.
 *
 * @example
 * queryQueue(['4127', '4128']); // { ok: true, jobs: [{ jobId: '4127', task: 1, state: 'RUNNING', detail: 'None' }, …] }
 */
export function queryQueue(jobIds: readonly string[]): Query {
  // All of this user's jobs in every state (ended ones stay listed for MinJobAge, 5 min by default),
  // filtered here: `squeue -j` fails outright when one id has left the queue.
  const result = run('squeue', ['-h', '-r', '-t', 'all', '-u', userInfo().username, '-o', '%i|%T|%r']);
  if (!result.ok) return result;
  const wanted = new Set(jobIds);
  return { ok: true, jobs: parseJobLines(result.stdout).filter((j) => wanted.has(j.jobId)) };
}

/**
 * Finished jobs from the accounting database (`sacct`), where the cluster keeps one.
 *
 * @example
 * queryAccounting(['4127']); // { ok: true, jobs: [{ jobId: '4127', task: 0, state: 'COMPLETED', detail: '0:0' }, …] }
 * // or { ok: false, message: 'Slurm accounting storage is disabled' }
 */
export function queryAccounting(jobIds: readonly string[]): Query {
  if (jobIds.length === 0) return { ok: true, jobs: [] };
  const result = run('sacct', ['-n', '-P', '-X', '-j', jobIds.join(','), '-o', 'JobID,State,ExitCode']);
  if (!result.ok) return result;
  return { ok: true, jobs: parseJobLines(result.stdout) };
}

/**
 * Cancels a job (or `id_task`); returns the error message instead of throwing.
 *
 * @example
 * cancelJob('4128'); // null when scancel accepted it
 */
export function cancelJob(id: string): string | null {
  const result = run('scancel', [id]);
  return result.ok ? null : result.message;
}

/** States in which a job still holds, or waits for, a slot: `ACTIVE_STATES.has('PENDING')` is true. */
export const ACTIVE_STATES = new Set([
  'PENDING',
  'RUNNING',
  'CONFIGURING',
  'COMPLETING',
  'REQUEUED',
  'REQUEUE_HOLD',
  'REQUEUE_FED',
  'RESIZING',
  'SUSPENDED',
  'STOPPED',
  'SIGNALING',
  'STAGE_OUT',
]);
