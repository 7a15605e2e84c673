/**
 * `muonlab slurm …`: parses its own options (harness/slurmArgs.ts), then submits (slurmSubmit.ts) or
 * reports (slurmStatus.ts). Exit codes as the rest of the CLI: 0 ok, 1 failure, 2 no sbatch on PATH
 * (no scheduler to submit to), 64 bad arguments.
 */
import { resolve } from 'node:path';
import { PRESET_NAMES } from '../src/experiments/presets/catalog';
import { parseSlurmArgs, SLURM_USAGE, SlurmUsageError, type SlurmSubmitArgs } from './slurmArgs';
import { NoSchedulerError, SchedulerError } from './slurmScheduler';
import { formatSlurmStatus, readSlurmStatus } from './slurmStatus';
import { SlurmStateError, submitSlurmSweep } from './slurmSubmit';

/**
 * The submission's arguments written out in full (absolute paths), so the resubmit hint that
 * `slurm status` prints works from any directory.
 */
function canonicalCommandLine(args: SlurmSubmitArgs): string[] {
  const isPreset = (PRESET_NAMES as string[]).includes(args.target);
  const words = [isPreset ? args.target : resolve(args.target)];
  if (isPreset) words.push('--scale', args.scale ?? 'quick');
  for (const set of args.set) words.push('--set', set);
  words.push('--shards', String(args.shards), '--out', resolve(args.out));
  if (args.partition) words.push('--partition', args.partition);
  if (args.account) words.push('--account', args.account);
  if (args.gpusPerTask) words.push('--gpus-per-task', args.gpusPerTask);
  if (args.time) words.push('--time', args.time);
  for (const line of args.extra) words.push('--extra', line);
  for (const flag of args.browserArg) words.push(`--browser-arg=${flag}`);
  if (args.noDefaultBrowserArgs) words.push('--no-default-browser-args');
  if (args.robust) words.push('--robust');
  return words;
}

/**
 * Runs `muonlab slurm` with the words after `slurm`; returns the exit code.
 *
 * @example
 * process.exitCode = await runSlurmCommand(['status', '/shared/sweep']);
 */
export async function runSlurmCommand(argv: string[]): Promise<number> {
  try {
    const parsed = parseSlurmArgs(argv);
    if (parsed.command === 'help') {
      console.log(SLURM_USAGE);
      return 0;
    }
    if (parsed.command === 'status') {
      const status = await readSlurmStatus(parsed.dir);
      console.log(parsed.json ? JSON.stringify(status, null, 2) : formatSlurmStatus(status).join('\n'));
      return 0;
    }
    return await submitSlurmSweep(parsed.args, canonicalCommandLine(parsed.args), {
      log: (line) => console.log(line),
      warn: (line) => console.error(line),
    });
  } catch (err) {
    if (err instanceof SlurmUsageError) {
      console.error(`muonlab: ${err.message}\n\n${SLURM_USAGE}`);
      return 64;
    }
    if (err instanceof NoSchedulerError) {
      console.error(`muonlab: ${err.message}`);
      return 2;
    }
    if (err instanceof SlurmStateError || err instanceof SchedulerError || err instanceof RangeError) {
      console.error(`muonlab: ${err.message}`);
      return 1;
    }
    console.error(`muonlab: ${(err as Error).stack ?? err}`);
    return 1;
  }
}
