/**
 * The command line of `muonlab slurm` (submit) and `muonlab slurm status DIR`, validated with zod like
 * the rest of the CLI: every problem names the option, the value given and what is allowed; the
 * caller exits 64 on a SlurmUsageError.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { PRESET_NAMES } from '../src/experiments/presets/catalog';
import { SCALES } from '../src/experiments/presets/types';

export class SlurmUsageError extends Error {}

/** Values that end up on `#SBATCH` lines: one token, no newline that could start another directive. */
const slurmToken = (what: string) =>
  z.string().regex(/^[A-Za-z0-9_.,:+=@/-]+$/, `expected one ${what} name (letters, digits, _ . , : + = @ / -)`);

const SubmitSchema = z.object({
  target: z.string().min(1),
  shards: z.coerce
    .number({ message: 'expected a whole number ≥ 1' })
    .int('expected a whole number ≥ 1')
    .min(1, 'must be at least 1 (one array task per shard)'),
  out: z.string().min(1, 'give the folder every node writes to (on a shared filesystem)'),
  scale: z.enum(SCALES).optional(),
  set: z.array(z.string()).default([]),
  partition: slurmToken('partition').optional(),
  account: slurmToken('account').optional(),
  gpusPerTask: z
    .string()
    .regex(/^([A-Za-z0-9_-]+:)?[1-9]\d*$/, 'expected a count such as 1, or type:count such as a100:1')
    .optional(),
  time: z
    .string()
    .regex(/^(\d+-)?\d{1,2}:\d{2}:\d{2}$/, 'expected HH:MM:SS or D-HH:MM:SS, e.g. 04:00:00')
    .optional(),
  extra: z
    .array(z.string().regex(/^#SBATCH [^\n\r]+$/, 'expected one line starting with "#SBATCH ", e.g. "#SBATCH --qos=long"'))
    .default([]),
  dryRun: z.boolean().default(false),
  browserArg: z.array(z.string()).default([]),
  noDefaultBrowserArgs: z.boolean().default(false),
  robust: z.boolean().default(false),
  /** Where each task runs its kernels: the page in headless Chromium or Node on Dawn (no browser needed on the nodes). */
  host: z.enum(['browser', 'node']).default('browser'),
});

export type SlurmSubmitArgs = z.infer<typeof SubmitSchema>;

export type SlurmArgs =
  { command: 'submit'; args: SlurmSubmitArgs } | { command: 'status'; dir: string; json: boolean } | { command: 'help' };

const FLAG_NAMES: Record<string, string> = {
  gpusPerTask: 'gpus-per-task',
  dryRun: 'dry-run',
  browserArg: 'browser-arg',
  noDefaultBrowserArgs: 'no-default-browser-args',
};

/**
 * Parses `muonlab slurm …` (the words after `slurm`).
 *
 * @example
 * parseSlurmArgs(['b-balance-onestep', '--scale', 'ci', '--shards', '2', '--out', '/shared/sweep']);
 * // → { command: 'submit', args: { target: 'b-balance-onestep', scale: 'ci', shards: 2, … } }
 * parseSlurmArgs(['status', '/shared/sweep']); // → { command: 'status', dir: '/shared/sweep', json: false }
 */
export function parseSlurmArgs(argv: string[]): SlurmArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        shards: { type: 'string' },
        out: { type: 'string' },
        scale: { type: 'string' },
        set: { type: 'string', multiple: true },
        partition: { type: 'string' },
        account: { type: 'string' },
        'gpus-per-task': { type: 'string' },
        time: { type: 'string' },
        extra: { type: 'string', multiple: true },
        'dry-run': { type: 'boolean' },
        json: { type: 'boolean' },
        'browser-arg': { type: 'string', multiple: true },
        'no-default-browser-args': { type: 'boolean' },
        robust: { type: 'boolean' },
        host: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new SlurmUsageError(`slurm: ${(err as Error).message}`);
  }
  const v = parsed.values;
  const words = parsed.positionals;
  if (v.help || words.length === 0) return { command: 'help' };
  if (words[0] === 'status') {
    if (words.length !== 2)
      throw new SlurmUsageError('slurm status: give the folder a `muonlab slurm` submission wrote (muonlab slurm status DIR)');
    const submitOnly = ['shards', 'out', 'scale', 'set', 'partition', 'account', 'gpus-per-task', 'time', 'extra', 'dry-run'].filter(
      (k) => (v as Record<string, unknown>)[k] !== undefined,
    );
    if (submitOnly.length)
      throw new SlurmUsageError(
        `slurm status: --${submitOnly[0]} is an option of the submission, not of status (status takes DIR and --json)`,
      );
    return { command: 'status', dir: words[1], json: Boolean(v.json) };
  }
  if (words.length !== 1) throw new SlurmUsageError(`slurm: give one preset or config file, got ${words.length}: ${words.join(' ')}`);
  if (v.json) throw new SlurmUsageError('--json: an option of `muonlab slurm status`, not of the submission');
  const target = words[0];
  if (!(PRESET_NAMES as string[]).includes(target) && !target.endsWith('.json')) {
    throw new SlurmUsageError(`slurm: "${target}" is neither a preset (allowed: ${PRESET_NAMES.join(', ')}) nor a .json config file`);
  }
  if (v.shards === undefined)
    throw new SlurmUsageError('--shards: required, the number of array tasks (each runs one shard of the cells), e.g. --shards 8');
  if (v.out === undefined)
    throw new SlurmUsageError('--out: required, a folder on a filesystem every node can see (shards, logs and the merged report go there)');
  const result = SubmitSchema.safeParse({
    target,
    shards: v.shards,
    out: v.out,
    scale: v.scale,
    set: v.set,
    partition: v.partition,
    account: v.account,
    gpusPerTask: v['gpus-per-task'],
    time: v.time,
    extra: v.extra,
    dryRun: v['dry-run'],
    browserArg: v['browser-arg'],
    noDefaultBrowserArgs: v['no-default-browser-args'],
    robust: v.robust,
    host: v.host,
  });
  if (!result.success) {
    const given = v as Record<string, unknown>;
    throw new SlurmUsageError(
      result.error.issues
        .map((issue) => {
          const key = String(issue.path[0]);
          const flag = FLAG_NAMES[key] ?? key;
          const value = issue.path.length > 1 ? (given[flag] as unknown[])[issue.path[1] as number] : given[flag];
          const allowed = issue.code === 'invalid_value' ? ` (allowed: ${(issue.values as unknown[]).join(', ')})` : '';
          return `--${flag} = ${JSON.stringify(value)}: ${issue.message}${allowed}`;
        })
        .join('\n'),
    );
  }
  const args = result.data;
  const isPreset = (PRESET_NAMES as string[]).includes(target);
  if (isPreset && args.set.length)
    throw new SlurmUsageError(`--set: applies to config files, not to the preset ${target} (presets are fixed; choose --scale)`);
  if (!isPreset && args.scale)
    throw new SlurmUsageError(
      `--scale: applies to presets (allowed: ${PRESET_NAMES.join(', ')}), not to the config file ${target}; change sizes with --set`,
    );
  return { command: 'submit', args };
}

export const SLURM_USAGE = `muonlab slurm — a sweep as a Slurm job array plus a merge job

Usage:
  muonlab slurm PRESET|CONFIG.json --shards N --out DIR [--scale ci|quick|full] [--set path=value…]
                [--partition P] [--gpus-per-task G] [--time HH:MM:SS] [--account A]
                [--extra "#SBATCH …"…] [--dry-run] [--host browser|node] [--browser-arg FLAG…] [--robust]
      One array task per shard (muonlab run … --shard k/N --resume --out DIR/shard-(k−1)), and a merge
      job after every task succeeded (--dependency=afterok) writing DIR/merged. Tasks are requeueable
      and resume their finished cells. Running the same command again resubmits only the shards with
      unfinished cells (after the earlier tasks ended) and a new merge job. --dry-run prints the
      scripts and the sbatch commands without writing or submitting anything.
  muonlab slurm status DIR [--json]
      Each shard's cells finished on disk and its task's state (squeue, and sacct where accounting
      is enabled), the merge job, and whether DIR/merged holds the merged report.

DIR must be on a filesystem every node sees (a warning is printed for /tmp and other node-local
folders); the muonlab installation and Node too. Exit codes: 0 ok, 1 failure, 2 no sbatch on PATH,
64 bad arguments.
`;
