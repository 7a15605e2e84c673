/**
 * DIR/slurm.json (schema muonlab.slurm/1): what a `muonlab slurm` folder is for and every submission
 * made into it — the work, the shard count, and per submission the array tasks, job ids and scripts.
 * `slurm status` reads it to know which jobs to ask the scheduler about; a resubmission reads it to
 * refuse other work in the same folder and to cancel a merge job that can no longer start.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { SCALES } from '../src/experiments/presets/types';
import { writeJsonAtomic } from './files';

const WorkSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('preset'), preset: z.string(), scale: z.enum(SCALES) }),
  // The config itself lives beside slurm.json (DIR/config.json): the tasks run that copy.
  z.object({ kind: z.literal('config'), name: z.string() }),
]);

const SubmissionSchema = z.object({
  submittedAt: z.string(),
  /** Array indices (0-based shards) submitted; empty when only the merge job was. */
  tasks: z.array(z.number().int().min(0)),
  arrayJobId: z.string().nullable(),
  mergeJobId: z.string().nullable(),
  /** Paths relative to DIR. */
  arrayScript: z.string().nullable(),
  mergeScript: z.string(),
});

export const SlurmRecordSchema = z.object({
  schema: z.literal('muonlab.slurm/1'),
  work: WorkSchema,
  shards: z.number().int().min(1),
  cells: z.number().int().min(1),
  runFolder: z.string(),
  /** The submitting command's words after `muonlab slurm`, for the resubmit hint. */
  commandLine: z.array(z.string()),
  submissions: z.array(SubmissionSchema),
});

export type SlurmRecord = z.infer<typeof SlurmRecordSchema>;
export type SlurmSubmission = z.infer<typeof SubmissionSchema>;

/** @example slurmRecordFile('/shared/sweep'); // '/shared/sweep/slurm.json' */
export const slurmRecordFile = (out: string) => join(out, 'slurm.json');

/**
 * The folder's record, or null when `muonlab slurm` never submitted into it.
 *
 * @example
 * readSlurmRecord('/shared/sweep')?.submissions.at(-1)?.arrayJobId; // '4127'
 */
export function readSlurmRecord(out: string): SlurmRecord | null {
  const file = slurmRecordFile(out);
  if (!existsSync(file)) return null;
  const parsed = SlurmRecordSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success)
    throw new RangeError(
      `${file}: not a muonlab.slurm/1 file: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  return parsed.data;
}

/**
 * Writes the record atomically (a crash leaves the previous one).
 *
 * @example
 * writeSlurmRecord('/shared/sweep', { ...record, submissions: [...record.submissions, next] });
 */
export function writeSlurmRecord(out: string, record: SlurmRecord): void {
  writeJsonAtomic(slurmRecordFile(out), SlurmRecordSchema.parse(record));
}
