/**
 * The two batch scripts of a `muonlab slurm` submission, as text (pure functions, printed by
 * --dry-run and written under DIR/slurm/ otherwise):
 *
 * - the array script: task k (0-based SLURM_ARRAY_TASK_ID) runs `muonlab run … --shard (k+1)/N
 *   --resume --out DIR/shard-k`. The shard count is written into the script rather than read from
 *   SLURM_ARRAY_TASK_COUNT, so a resubmission of only some tasks (`--array=1,3`) still runs the right
 *   shards; `--requeue` plus `--resume` means a task requeued after a node failure or preemption
 *   skips the cells it already finished.
 * - the merge script: `muonlab merge DIR/shard-*\/RUN --out DIR/merged`, submitted with
 *   `--dependency=afterok:<array job>` so it starts only when every task succeeded.
 */

export interface SlurmJobOptions {
  partition?: string;
  account?: string;
  gpusPerTask?: string;
  time?: string;
  /** Whole `#SBATCH …` lines, added to both scripts. */
  extra: string[];
}

export interface SlurmScriptInput {
  /** Absolute: the submission folder DIR. */
  out: string;
  /** A short name for the jobs (preset or config name). */
  name: string;
  shards: number;
  /** The array indices (0-based shards) this submission runs. */
  tasks: number[];
  /** The run folder `muonlab run` writes inside each shard's --out. */
  runFolder: string;
  /** `muonlab run` arguments before the shard options, e.g. ['b-balance-onestep', '--scale', 'ci']. */
  runArgs: string[];
  /** Options for `muonlab merge` as well as `run` (browser flags). */
  browserArgs: string[];
  /** How a node starts muonlab: [node, /path/to/bin/muonlab.js]. */
  muonlab: [string, string];
  job: SlurmJobOptions;
}

/**
 * Quotes a word for bash (single quotes; a quote inside becomes '\'').
 *
 * @example
 * quoteShell("it's here"); // → 'it'\''s here'
 */
export function quoteShell(word: string): string {
  return /^[A-Za-z0-9_./=:,+@%-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * Slurm's `--array` value for a set of indices, runs of consecutive ones as ranges.
 *
 * @example
 * formatArraySpec([0, 1, 2, 5, 7, 8]); // → '0-2,5,7-8'
 */
export function formatArraySpec(tasks: readonly number[]): string {
  const sorted = [...new Set(tasks)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(j === i ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

function jobLines(input: SlurmScriptInput): string[] {
  const { job } = input;
  return [
    ...(job.partition ? [`#SBATCH --partition=${job.partition}`] : []),
    ...(job.account ? [`#SBATCH --account=${job.account}`] : []),
    ...(job.time ? [`#SBATCH --time=${job.time}`] : []),
    ...job.extra,
  ];
}

const command = (words: string[]) => words.map(quoteShell).join(' ');

/**
 * The job array's batch script.
 *
 * @example
 * arrayScript({ out: '/shared/s', name: 'b-balance-onestep', shards: 2, tasks: [0, 1], runFolder: 'b-balance-onestep-ci',
 *   runArgs: ['b-balance-onestep', '--scale', 'ci'], browserArgs: [], muonlab: ['/usr/bin/node', '/opt/muonlab/bin/muonlab.js'], job: { extra: [] } });
 * // '#!/bin/bash\n…#SBATCH --array=0-1\n…--shard "$((SLURM_ARRAY_TASK_ID + 1))/2" --resume --out /shared/s/shard-"$SLURM_ARRAY_TASK_ID"\n'
 */
export function arrayScript(input: SlurmScriptInput): string {
  const { out, shards } = input;
  return [
    '#!/bin/bash',
    `# muonlab slurm: ${input.name}, one array task per shard of ${shards} (written by \`muonlab slurm\`).`,
    `#SBATCH --job-name=muonlab-${input.name}`,
    `#SBATCH --array=${formatArraySpec(input.tasks)}`,
    '#SBATCH --ntasks=1',
    ...(input.job.gpusPerTask ? [`#SBATCH --gpus-per-task=${input.job.gpusPerTask}`] : []),
    ...jobLines(input),
    `#SBATCH --chdir=${quoteShell(out)}`,
    // Slurm opens the log before the script runs: the folder exists (muonlab slurm makes it).
    `#SBATCH --output=${quoteShell(`${out}/logs/shard-%a.out`)}`,
    // A requeued task appends to its log instead of erasing the first attempt's.
    '#SBATCH --open-mode=append',
    '#SBATCH --requeue',
    'set -euo pipefail',
    'echo "muonlab: shard $((SLURM_ARRAY_TASK_ID + 1))/' +
      shards +
      ' on $(hostname), job ${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}, restart ${SLURM_RESTART_COUNT:-0}, $(date -u +%FT%TZ)"',
    `exec ${command([...input.muonlab, 'run', ...input.runArgs, ...input.browserArgs])} --shard "$((SLURM_ARRAY_TASK_ID + 1))/${shards}" --resume --out ${quoteShell(out)}/shard-"$SLURM_ARRAY_TASK_ID"`,
    '',
  ].join('\n');
}

/**
 * The merge job's inputs: every shard's run folder.
 *
 * @example
 * mergeInputs({ out: '/s', shards: 2, runFolder: 'b-balance-onestep-ci' }); // ['/s/shard-0/b-balance-onestep-ci', '/s/shard-1/b-balance-onestep-ci']
 */
export function mergeInputs(input: Pick<SlurmScriptInput, 'out' | 'shards' | 'runFolder'>): string[] {
  return Array.from({ length: input.shards }, (_, k) => `${input.out}/shard-${k}/${input.runFolder}`);
}

/**
 * The merge job's batch script (submitted with --dependency=afterok on the array job).
 *
 * @example
 * mergeScript(input); // '…exec /usr/bin/node /opt/muonlab/bin/muonlab.js merge /shared/s/shard-0/b-balance-onestep-ci … --out /shared/s/merged\n'
 */
export function mergeScript(input: SlurmScriptInput): string {
  return [
    '#!/bin/bash',
    `# muonlab slurm: merges the ${input.shards} shard folders of ${input.name} into merged/ once every array task succeeded.`,
    `#SBATCH --job-name=muonlab-${input.name}-merge`,
    '#SBATCH --ntasks=1',
    ...jobLines(input),
    `#SBATCH --chdir=${quoteShell(input.out)}`,
    `#SBATCH --output=${quoteShell(`${input.out}/logs/merge-%j.out`)}`,
    'set -euo pipefail',
    'echo "muonlab: merge on $(hostname), job ${SLURM_JOB_ID}, $(date -u +%FT%TZ)"',
    `exec ${command([...input.muonlab, 'merge', ...mergeInputs(input), '--out', `${input.out}/merged`, ...input.browserArgs])}`,
    '',
  ].join('\n');
}
