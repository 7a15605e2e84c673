/**
 * `muonlab run CONFIG.json` for a transformer config (schema `muonlab.transformer/1`): trains in the
 * page (or on the Node host) and writes `<out>/<name>/` —
 *
 *   config.json, env.json     the parsed config and the environment
 *   metrics.jsonl             one line per replica and metric step (schema muonlab.transformer-metrics/1),
 *                             appended as they arrive
 *   checkpoint.mlck           the latest checkpoint (every checkpoint.every steps; src/model/checkpoint.ts),
 *                             replaced atomically
 *   summary.json              written last (schema muonlab.transformer-summary/1): throughput, memory,
 *                             the final records
 *   profile.json              with --profile
 *
 * `--resume` continues from checkpoint.mlck (refused, naming the first difference, when it is another
 * config's) and cuts metrics.jsonl back to the records before the checkpoint's step, so the file
 * ends up as an uninterrupted run's.
 */
import { existsSync, readFileSync, appendFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseTransformerConfig, type TransformerConfig } from '../src/model/config';
import { decodeCheckpoint, assertSameConfig } from '../src/model/checkpoint';
import type { TransformerJobSummary } from '../src/model/job';
import type { RunProfile } from '../src/gpu/runProfile';
import { writeFileAtomic, writeJsonAtomic } from './files';

export const TRANSFORMER_SUMMARY_SCHEMA = 'muonlab.transformer-summary/1';

export interface TransformerRunPlan {
  root: string;
  config: TransformerConfig;
  /** base64 of the checkpoint to resume from (with --resume and a checkpoint on disk). */
  resume?: string;
  resumeStep?: number;
}

/** Plans a run: the folder, and with `resume` the checkpoint (checked against the config here, before any GPU work). */
export function planTransformerRun(raw: unknown, options: { out: string; resume?: boolean }): TransformerRunPlan {
  const config = parseTransformerConfig(raw);
  const root = resolve(options.out, config.name);
  const file = join(root, 'checkpoint.mlck');
  if (!options.resume || !existsSync(file)) return { root, config };
  const bytes = readFileSync(file);
  const checkpoint = decodeCheckpoint(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  assertSameConfig(checkpoint, config);
  return { root, config, resume: bytes.toString('base64'), resumeStep: checkpoint.header.step };
}

/** Starts (or, resuming, trims) the run folder's files. */
export function beginTransformerRun(plan: TransformerRunPlan): void {
  writeJsonAtomic(join(plan.root, 'config.json'), plan.config);
  const metrics = join(plan.root, 'metrics.jsonl');
  if (plan.resumeStep === undefined || !existsSync(metrics)) {
    writeFileAtomic(metrics, '');
    return;
  }
  // Records of steps ≥ the checkpoint's are produced again by the resumed run.
  const kept = readFileSync(metrics, 'utf8')
    .split('\n')
    .filter((line) => line.trim() && (JSON.parse(line) as { step: number }).step < plan.resumeStep!);
  writeFileAtomic(metrics, kept.map((l) => `${l}\n`).join(''));
}

export function appendTransformerRecord(plan: TransformerRunPlan, record: unknown): void {
  appendFileSync(join(plan.root, 'metrics.jsonl'), `${JSON.stringify(record)}\n`);
}

export function writeCheckpoint(plan: TransformerRunPlan, base64: string): void {
  writeFileAtomic(join(plan.root, 'checkpoint.mlck'), Buffer.from(base64, 'base64'));
}

export function finishTransformerRun(plan: TransformerRunPlan, summary: TransformerJobSummary & { profile?: RunProfile }): void {
  const { profile: _profile, ...rest } = summary;
  writeJsonAtomic(join(plan.root, 'summary.json'), { schema: TRANSFORMER_SUMMARY_SCHEMA, ...rest });
}
