/**
 * `muonlab slurm status DIR`: per shard, the cells finished on disk (the truth `--resume` and the
 * merge go by) next to what the scheduler says about its latest array task (squeue while it is
 * queued or running or just ended, sacct afterwards where the cluster keeps accounting), then the
 * merge job and whether DIR/merged holds the merged summary.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseExperimentConfig } from '../src/experiments/config';
import { SlurmUsageError } from './slurmArgs';
import { readSlurmRecord, type SlurmRecord } from './slurmRecord';
import { queryAccounting, queryQueue, type JobState, type Query } from './slurmScheduler';
import { quoteShell } from './slurmScripts';
import { planWork, shardProgress, type SlurmWork } from './slurmWork';
import { formatTable } from './table';

export interface ShardStatus {
  index: number;
  cells: number;
  finished: number;
  /** The latest array task that ran this shard (`jobId_index`), or null if never submitted. */
  job: string | null;
  /** Its scheduler state, or null when neither squeue nor sacct knows it any more. */
  state: string | null;
  detail: string;
}

export interface SlurmStatus {
  schema: 'muonlab.slurm-status/1';
  out: string;
  work: string;
  shards: ShardStatus[];
  cells: number;
  finishedCells: number;
  merge: { job: string | null; state: string | null; detail: string };
  /** DIR/merged/summary.json exists. */
  merged: boolean;
  /** What could not be asked (squeue or sacct missing, accounting disabled). */
  notes: string[];
  /** The command that resubmits unfinished shards. */
  resubmit: string;
}

function workOf(out: string, record: SlurmRecord): SlurmWork {
  if (record.work.kind === 'preset') return record.work;
  return { kind: 'config', config: parseExperimentConfig(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'))) };
}

function lookup(queue: Query, accounting: Query, jobId: string | null, task: number | null): { state: string | null; detail: string } {
  if (jobId === null) return { state: null, detail: '' };
  for (const source of [queue, accounting]) {
    if (!source.ok) continue;
    const hit = source.jobs.find((j: JobState) => j.jobId === jobId && j.task === task);
    if (hit) return { state: hit.state, detail: hit.detail };
  }
  return { state: null, detail: '' };
}

/**
 * The state of a `muonlab slurm` folder.
 *
 * @example
 * const s = await readSlurmStatus('/shared/sweep');
 * s.shards.map((x) => `${x.finished}/${x.cells} ${x.state}`); // ['1/1 COMPLETED', '0/1 RUNNING']
 */
export async function readSlurmStatus(dir: string): Promise<SlurmStatus> {
  const out = resolve(dir);
  const record = readSlurmRecord(out);
  if (!record) throw new SlurmUsageError(`slurm status: ${out} has no slurm.json (not a folder \`muonlab slurm\` submitted into)`);
  const plan = await planWork(workOf(out, record));
  const progress = shardProgress(out, plan, record.shards);
  const jobIds = record.submissions.flatMap((s) => [s.arrayJobId, s.mergeJobId]).filter((id): id is string => id !== null);
  const queue = queryQueue(jobIds);
  const accounting = queryAccounting(jobIds);
  const notes: string[] = [];
  if (!queue.ok) notes.push(`squeue: ${queue.message}`);
  if (!accounting.ok) notes.push(`sacct: ${accounting.message} (tasks that left the queue are known from disk only)`);
  const shards = progress.map((p) => {
    const last = [...record.submissions].reverse().find((s) => s.arrayJobId !== null && s.tasks.includes(p.index));
    const job = last ? `${last.arrayJobId}_${p.index}` : null;
    return { ...p, job, ...lookup(queue, accounting, last?.arrayJobId ?? null, p.index) };
  });
  const lastMerge = record.submissions.at(-1)?.mergeJobId ?? null;
  return {
    schema: 'muonlab.slurm-status/1',
    out,
    work: plan.label,
    shards,
    cells: plan.cells.length,
    finishedCells: progress.reduce((s, p) => s + p.finished, 0),
    merge: { job: lastMerge, ...lookup(queue, accounting, lastMerge, null) },
    merged: existsSync(join(out, 'merged', 'summary.json')),
    notes,
    resubmit: `muonlab slurm ${record.commandLine.map(quoteShell).join(' ')}`,
  };
}

/**
 * The status as the lines `muonlab slurm status` prints.
 *
 * @example
 * formatSlurmStatus(status).join('\n'); // 'b-balance-onestep at scale ci: 1/2 cells finished …'
 */
export function formatSlurmStatus(s: SlurmStatus): string[] {
  const table = formatTable(
    ['shard', 'cells', 'finished', 'task', 'state', 'detail'],
    s.shards.map((x) => [
      String(x.index),
      String(x.cells),
      String(x.finished),
      x.job ?? '—',
      x.state ?? (x.job ? 'not in the queue' : '—'),
      x.detail,
    ]),
  );
  const done = s.shards.filter((x) => x.finished === x.cells).length;
  const lines = [
    `${s.work}: ${s.finishedCells}/${s.cells} cells finished on disk, ${done}/${s.shards.length} shards complete (${s.out})`,
    table,
  ];
  lines.push(
    `merge job: ${s.merge.job ?? '—'} ${s.merge.state ?? (s.merge.job ? 'not in the queue' : '')}${s.merge.detail ? ` (${s.merge.detail})` : ''}`.trimEnd(),
  );
  lines.push(s.merged ? `merged summary: ${join(s.out, 'merged', 'summary.json')}` : 'merged summary: not yet');
  for (const note of s.notes) lines.push(`note: ${note}`);
  const stuck =
    !s.merged &&
    done < s.shards.length &&
    s.shards.every((x) => x.state === null || !['PENDING', 'RUNNING', 'CONFIGURING', 'COMPLETING', 'REQUEUED'].includes(x.state));
  if (stuck) lines.push(`unfinished shards with no task queued: resubmit them with\n  ${s.resubmit}`);
  return lines;
}
