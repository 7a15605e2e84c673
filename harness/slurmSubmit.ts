/**
 * `muonlab slurm PRESET|CONFIG.json --shards N --out DIR …`: plans the cells and their split, writes
 * the array and merge scripts under DIR/slurm/<k>/, submits them (array first, then the merge job
 * with --dependency=afterok on it) and records both in DIR/slurm.json before and after each sbatch,
 * so a failure part-way leaves a record of what was submitted.
 *
 * Submitting again into the same DIR is the resubmission: shards whose cells are all finished on disk
 * are left out, the array covers only the others (their tasks resume their own finished cells), and
 * a merge job that can no longer start (its array had a failed or cancelled task) is cancelled.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { PRESET_NAMES } from '../src/experiments/presets/catalog';
import { writeFileAtomic, writeJsonAtomic } from './files';
import { firstDifference } from './merge';
import { loadExperiment } from './run';
import { PROJECT_ROOT, ensureAppBuilt } from './server';
import { SlurmUsageError, type SlurmSubmitArgs } from './slurmArgs';
import { readSlurmRecord, writeSlurmRecord, type SlurmRecord, type SlurmSubmission } from './slurmRecord';
import { ACTIVE_STATES, cancelJob, queryQueue, requireSbatch, submitBatch } from './slurmScheduler';
import { arrayScript, formatArraySpec, mergeScript, type SlurmScriptInput } from './slurmScripts';
import { planWork, shardProgress, type SlurmWork, type WorkPlan } from './slurmWork';

/** The folder's state forbids the submission (a task still running, …): exit 1. */
export class SlurmStateError extends Error {}

export interface SubmitIo {
  log(line: string): void;
  warn(line: string): void;
}

/** Folders that are local to each machine on practically every cluster. */
const NODE_LOCAL = ['/tmp', '/var/tmp', '/dev/shm'];

/**
 * A warning when `out` lies in a node-local folder (the other nodes' tasks and the merge job would
 * each see their own), or null.
 *
 * @example
 * nodeLocalWarning('/tmp/sweep'); // 'warning: --out /tmp/sweep is under /tmp, …'
 * nodeLocalWarning('/home/me/sweep'); // null
 */
export function nodeLocalWarning(out: string): string | null {
  const dir = resolve(out);
  const local = [...new Set([...NODE_LOCAL, resolve(tmpdir())])].find((root) => dir === root || dir.startsWith(root + sep));
  if (!local) return null;
  return `warning: --out ${dir} is under ${local}, which is local to each machine on most clusters: tasks on other nodes would write shard folders the merge job cannot see. Use a folder on a filesystem every node mounts (home, project or scratch space).`;
}

function workOf(args: SlurmSubmitArgs): SlurmWork {
  if ((PRESET_NAMES as string[]).includes(args.target)) return { kind: 'preset', preset: args.target, scale: args.scale ?? 'quick' };
  try {
    return { kind: 'config', config: loadExperiment(args.target, args.set) };
  } catch (err) {
    throw new SlurmUsageError((err as Error).message);
  }
}

/** Refuses a DIR that holds another sweep (or shard folders of no recorded sweep). */
function checkFolder(out: string, record: SlurmRecord | null, work: SlurmWork, plan: WorkPlan, shards: number): void {
  if (existsSync(out) && !statSync(out).isDirectory()) throw new SlurmUsageError(`--out = "${out}": is a file, not a folder`);
  if (!record) {
    const stray = existsSync(out) ? readdirSync(out).filter((f) => /^shard-\d+$/.test(f) || f === 'merged') : [];
    if (stray.length)
      throw new SlurmUsageError(`--out = "${out}": holds ${stray[0]}/ but no slurm.json (not a muonlab slurm folder); choose a new --out`);
    return;
  }
  const wanted = work.kind === 'preset' ? `${work.preset} at scale ${work.scale}` : `config ${work.config.name}`;
  const held = record.work.kind === 'preset' ? `${record.work.preset} at scale ${record.work.scale}` : `config ${record.work.name}`;
  const hint = 'use another --out, or the same arguments to resubmit its unfinished shards';
  if (held !== wanted) throw new SlurmUsageError(`--out = "${out}": holds the Slurm sweep of ${held} (slurm.json), not ${wanted}; ${hint}`);
  if (record.shards !== shards)
    throw new SlurmUsageError(
      `--shards = ${shards}: ${out} was split into ${record.shards} shards (slurm.json); a different count would split the cells differently; ${hint}`,
    );
  if (record.cells !== plan.cells.length)
    throw new SlurmStateError(
      `${out}: slurm.json counts ${record.cells} cells, this muonlab ${plan.cells.length} (another version?); use another --out`,
    );
  if (work.kind === 'config') {
    const stored = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    const diff = firstDifference(stored, work.config);
    if (diff !== null) throw new SlurmUsageError(`${out}/config.json differs from this config at ${diff}; ${hint}`);
  }
}

/**
 * Before a resubmission: refuses while an earlier array task is still queued or running (two
 * writers in one shard folder would mix results), and cancels earlier merge jobs that wait for an
 * array that can no longer succeed. Returns a pending merge job that may still run, if any.
 */
function settleEarlierJobs(record: SlurmRecord, unfinished: number[], io: SubmitIo): string | null {
  const arrays = record.submissions.map((s) => s.arrayJobId).filter((id): id is string => id !== null);
  const merges = record.submissions.map((s) => s.mergeJobId).filter((id): id is string => id !== null);
  const queue = queryQueue([...arrays, ...merges]);
  if (!queue.ok)
    throw new SlurmStateError(
      `cannot read the queue before resubmitting (squeue: ${queue.message}); the earlier tasks may still be running`,
    );
  const active = queue.jobs.filter((j) => ACTIVE_STATES.has(j.state));
  const busyTasks = active.filter((j) => arrays.includes(j.jobId));
  if (busyTasks.length) {
    const list = busyTasks.map((j) => `${j.jobId}${j.task === null ? '' : `_${j.task}`} ${j.state}`).join(', ');
    throw new SlurmStateError(
      `earlier array tasks are still in the queue (${list}): wait for them (muonlab slurm status DIR) or scancel them, then submit again`,
    );
  }
  const running = active.find((j) => merges.includes(j.jobId) && j.state !== 'PENDING');
  if (running) throw new SlurmStateError(`merge job ${running.jobId} is ${running.state}: wait for it (muonlab slurm status DIR)`);
  for (const job of active.filter((j) => merges.includes(j.jobId))) {
    if (unfinished.length === 0) return job.jobId; // every shard is done: that merge job can still run
    const error = cancelJob(job.jobId);
    io.log(
      error
        ? `could not cancel the earlier merge job ${job.jobId}: ${error}`
        : `cancelled the earlier merge job ${job.jobId} (${job.detail || job.state}): its array did not succeed`,
    );
  }
  return null;
}

function browserOptions(args: SlurmSubmitArgs): string[] {
  return [
    ...(args.host === 'node' ? ['--host', 'node'] : []),
    ...args.browserArg.map((a) => `--browser-arg=${a}`),
    ...(args.noDefaultBrowserArgs ? ['--no-default-browser-args'] : []),
    ...(args.robust ? ['--robust'] : []),
  ];
}

function scriptInput(args: SlurmSubmitArgs, out: string, work: SlurmWork, plan: WorkPlan, tasks: number[]): SlurmScriptInput {
  return {
    out,
    name: work.kind === 'preset' ? work.preset : work.config.name,
    shards: args.shards,
    tasks,
    runFolder: plan.runFolder,
    runArgs: work.kind === 'preset' ? [work.preset, '--scale', work.scale] : [join(out, 'config.json')],
    browserArgs: browserOptions(args),
    muonlab: [process.execPath, join(PROJECT_ROOT, 'bin', 'muonlab.js')],
    job: { partition: args.partition, account: args.account, gpusPerTask: args.gpusPerTask, time: args.time, extra: args.extra },
  };
}

/**
 * Submits (or with --dry-run prints) the sweep; returns the exit code.
 *
 * @example
 * await submitSlurmSweep(parsed.args, ['b-balance-onestep', '--shards', '2', '--out', '/shared/s'], { log: console.log, warn: console.error });
 */
export async function submitSlurmSweep(
  args: SlurmSubmitArgs,
  commandLine: string[],
  io: SubmitIo,
  /** Builds the page before the tasks start (tests pass a stand-in: the build is not under test). */
  buildApp: (log: (message: string) => void) => Promise<unknown> = ensureAppBuilt,
): Promise<number> {
  const out = resolve(args.out);
  const work = workOf(args);
  let plan: WorkPlan;
  try {
    plan = await planWork(work);
  } catch (err) {
    if (err instanceof RangeError) throw new SlurmUsageError(`slurm: ${err.message}`);
    throw err;
  }
  if (args.shards > plan.cells.length) {
    throw new SlurmUsageError(
      `--shards = ${args.shards}: more shards than cells: ${plan.label} has ${plan.cells.length} cell(s) (allowed: 1–${plan.cells.length})`,
    );
  }
  const warning = nodeLocalWarning(out);
  if (warning) io.warn(warning);
  const record = readSlurmRecord(out);
  checkFolder(out, record, work, plan, args.shards);
  const progress = shardProgress(out, plan, args.shards);
  const unfinished = progress.filter((p) => p.finished < p.cells).map((p) => p.index);
  io.log(`${plan.label}: ${plan.cells.length} cell(s) in ${args.shards} shard(s) → ${out}`);
  for (const p of progress)
    io.log(
      `  shard ${p.index}: ${p.cells} cell(s)${p.finished ? `, ${p.finished} finished on disk` : ''}${p.finished === p.cells ? ' — not resubmitted' : ''}`,
    );
  const input = scriptInput(args, out, work, plan, unfinished);
  const mergedSummary = join(out, 'merged', 'summary.json');

  const number = (record?.submissions.length ?? 0) + 1;
  const scriptDir = join(out, 'slurm', String(number));
  const files = { array: join(scriptDir, 'array.sbatch'), merge: join(scriptDir, 'merge.sbatch') };

  if (args.dryRun) {
    if (unfinished.length) io.log(`\n# ${files.array}\n${arrayScript(input)}`);
    io.log(`# ${files.merge}\n${mergeScript(input)}`);
    if (unfinished.length) io.log(`sbatch --parsable ${files.array}   # prints ARRAY_JOB_ID`);
    io.log(`sbatch --parsable${unfinished.length ? ' --dependency=afterok:ARRAY_JOB_ID' : ''} ${files.merge}`);
    io.log('(dry run: nothing written, nothing submitted)');
    return 0;
  }

  requireSbatch();
  const pendingMerge = record ? settleEarlierJobs(record, unfinished, io) : null;
  if (unfinished.length === 0 && existsSync(mergedSummary)) {
    io.log(`every shard is finished and merged: ${relative(process.cwd(), mergedSummary)}`);
    return 0;
  }
  if (pendingMerge) {
    io.log(`every shard is finished; merge job ${pendingMerge} is still queued: nothing to submit (muonlab slurm status ${out})`);
    return 0;
  }
  // Built once here: N tasks starting together on a shared install would each rebuild the page.
  await buildApp((m) => io.log(m));
  mkdirSync(join(out, 'logs'), { recursive: true });
  if (work.kind === 'config') writeJsonAtomic(join(out, 'config.json'), work.config);
  if (unfinished.length) writeFileAtomic(files.array, arrayScript(input));
  writeFileAtomic(files.merge, mergeScript(input));

  const submission: SlurmSubmission = {
    submittedAt: new Date().toISOString(),
    tasks: unfinished,
    arrayJobId: null,
    mergeJobId: null,
    arrayScript: unfinished.length ? relative(out, files.array) : null,
    mergeScript: relative(out, files.merge),
  };
  const next: SlurmRecord = record ?? {
    schema: 'muonlab.slurm/1',
    work: work.kind === 'preset' ? { kind: 'preset', preset: work.preset, scale: work.scale } : { kind: 'config', name: work.config.name },
    shards: args.shards,
    cells: plan.cells.length,
    runFolder: plan.runFolder,
    commandLine,
    submissions: [],
  };
  next.commandLine = commandLine;
  next.submissions.push(submission);
  // The record is written once the array is in the queue (a failed sbatch submitted nothing), and
  // again with the merge job: whatever fails after the first sbatch, the record names what runs.
  if (unfinished.length) submission.arrayJobId = submitBatch(files.array);
  writeSlurmRecord(out, next);
  try {
    submission.mergeJobId = submitBatch(files.merge, submission.arrayJobId ? { dependency: `afterok:${submission.arrayJobId}` } : {});
  } catch (err) {
    if (!submission.arrayJobId) throw err;
    throw new SlurmStateError(
      `${(err as Error).message}\nthe array job ${submission.arrayJobId} was submitted; submit the merge yourself: sbatch --dependency=afterok:${submission.arrayJobId} ${files.merge}`,
    );
  }
  writeSlurmRecord(out, next);
  if (submission.arrayJobId)
    io.log(
      `submitted array job ${submission.arrayJobId} (tasks ${formatArraySpec(unfinished)} of 0-${args.shards - 1}) and merge job ${submission.mergeJobId} (starts when every task succeeded) → ${join(out, 'merged')}`,
    );
  else io.log(`every shard is finished: submitted merge job ${submission.mergeJobId} → ${join(out, 'merged')}`);
  io.log(`logs: ${join(out, 'logs')}/; follow with: muonlab slurm status ${out}`);
  return 0;
}
