/**
 * `--shard auto`: the shard of this process read from the environment an array scheduler gives each
 * of its tasks, so one command line serves every task of a Slurm job array or a Kubernetes Indexed
 * Job. Shard numbers on the command line are 1-based (`--shard 2/4`); array indices are 0-based.
 */

/** Why `--shard auto` cannot decide; the CLI turns it into exit 64 (bad arguments). */
export class ShardEnvError extends Error {}

export interface AutoShard {
  /** 1-based, as `--shard i/n` takes it. */
  shard: number;
  count: number;
  /** Where the numbers came from, for the log line. */
  source: string;
}

type Env = Record<string, string | undefined>;

function readIndex(env: Env, name: string): number | undefined {
  const text = env[name];
  if (text === undefined || text === '') return undefined;
  if (!/^\d+$/.test(text)) throw new ShardEnvError(`--shard auto: ${name} = ${JSON.stringify(text)} is not a non-negative integer`);
  return Number(text);
}

/**
 * The shard of this array task. Rules, in order:
 * - Kubernetes Indexed Job: `JOB_COMPLETION_INDEX` (0-based) is the shard index; the count is not in
 *   the environment, so `--shards N` (the Job's `completions`) is required.
 * - Slurm job array with `--shards N`: `SLURM_ARRAY_TASK_ID` is the 0-based shard index (what
 *   `muonlab slurm` submits: `--array=0-(N−1)`, or a subset of it when resubmitting).
 * - Slurm job array without `--shards`: the array must be `--array=0-(N−1)` (ids from 0, step 1,
 *   no gaps); the shard index is `SLURM_ARRAY_TASK_ID` and the count `SLURM_ARRAY_TASK_COUNT`.
 *   Anything else (ids from 1, a sparse list, a resubmitted subset such as `--array=1`) is refused:
 *   its count is not the shard count. A resubmitted `--array=0` alone cannot be told from a
 *   one-task array, so resubmissions of part of an array should always pass `--shards N`.
 *
 * @example
 * resolveAutoShard({ SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_MAX: '3', SLURM_ARRAY_TASK_COUNT: '4' });
 * // → { shard: 2, count: 4, source: 'SLURM_ARRAY_TASK_ID=1 of SLURM_ARRAY_TASK_COUNT=4' }
 * resolveAutoShard({ JOB_COMPLETION_INDEX: '0' }, 8); // → { shard: 1, count: 8, … }
 */
export function resolveAutoShard(env: Env, shards?: number): AutoShard {
  const slurmId = readIndex(env, 'SLURM_ARRAY_TASK_ID');
  const k8sIndex = readIndex(env, 'JOB_COMPLETION_INDEX');
  if (slurmId !== undefined && k8sIndex !== undefined) {
    // Both at once means a job nested in another scheduler's task: guessing could run the wrong cells.
    throw new ShardEnvError(
      `--shard auto: both SLURM_ARRAY_TASK_ID (${slurmId}) and JOB_COMPLETION_INDEX (${k8sIndex}) are set; give --shard i/n explicitly`,
    );
  }
  if (k8sIndex !== undefined) {
    if (shards === undefined) {
      throw new ShardEnvError(
        `--shards: required with --shard auto in a Kubernetes Indexed Job (JOB_COMPLETION_INDEX=${k8sIndex} is set, the count is not): give the Job's completions, e.g. --shards ${k8sIndex + 1}`,
      );
    }
    return checked(k8sIndex, shards, `JOB_COMPLETION_INDEX=${k8sIndex} with --shards ${shards}`);
  }
  if (slurmId !== undefined) {
    if (shards !== undefined) return checked(slurmId, shards, `SLURM_ARRAY_TASK_ID=${slurmId} with --shards ${shards}`);
    const min = readIndex(env, 'SLURM_ARRAY_TASK_MIN') ?? 0;
    const max = readIndex(env, 'SLURM_ARRAY_TASK_MAX');
    const count = readIndex(env, 'SLURM_ARRAY_TASK_COUNT');
    const step = readIndex(env, 'SLURM_ARRAY_TASK_STEP') ?? 1;
    if (count === undefined)
      throw new ShardEnvError(`--shard auto: SLURM_ARRAY_TASK_ID=${slurmId} is set but SLURM_ARRAY_TASK_COUNT is not; give --shards N`);
    // Only --array=0-(N−1) makes the task count the shard count: a sparse array (--array=1,5 or
    // 0-9:2) or a resubmitted subset (--array=1) would silently run the wrong cells.
    if (min !== 0 || step !== 1 || (max !== undefined && max + 1 !== count)) {
      throw new ShardEnvError(
        `--shards: required with --shard auto in this Slurm array (ids ${min}..${max ?? '?'}, step ${step}, ${count} task(s)): without it only --array=0-(N−1) is read as N shards; give --shards N and number the tasks 0..N−1`,
      );
    }
    return checked(slurmId, count, `SLURM_ARRAY_TASK_ID=${slurmId} of SLURM_ARRAY_TASK_COUNT=${count}`);
  }
  throw new ShardEnvError(
    '--shard auto: no array index in the environment (SLURM_ARRAY_TASK_ID for Slurm job arrays, JOB_COMPLETION_INDEX for Kubernetes Indexed Jobs); give --shard i/n',
  );
}

function checked(index: number, count: number, source: string): AutoShard {
  if (!Number.isInteger(count) || count < 1) throw new ShardEnvError(`--shards = ${count}: must be an integer ≥ 1`);
  if (index >= count) throw new ShardEnvError(`--shard auto: ${source}: index ${index} is outside 0..${count - 1}`);
  return { shard: index + 1, count, source };
}
