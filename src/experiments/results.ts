/**
 * Versioned schemas of everything muonlab writes to disk (docs/architecture.md §3.5 "Results are versioned
 * schemas"). A file carries `schema: "<name>/<version>"`; readers parse with these, so an old or
 * foreign file fails with the field that is wrong instead of being misread. Later issues add the
 * experiment records (metrics.jsonl lines, summary.json predictions) here.
 */
import { z } from 'zod';

export const AdapterSchema = z.object({
  vendor: z.string(),
  architecture: z.string(),
  device: z.string(),
  description: z.string(),
  isFallbackAdapter: z.boolean(),
  subgroupMinSize: z.number().optional(),
  subgroupMaxSize: z.number().optional(),
});

export const VariantTableSchema = z.record(z.string(), z.record(z.string(), z.string()));

/** How the variant table was obtained, with the warm-up figures behind each choice. */
export const VariantSelectionSchema = z.object({
  table: VariantTableSchema,
  /** family → variant → passed the quick validation on this adapter. */
  validated: z.record(z.string(), z.record(z.string(), z.boolean())),
  /** family → shape class → variant → median ms of the warm-up (only validated variants). */
  warmupMs: z.record(z.string(), z.record(z.string(), z.record(z.string(), z.number()))),
  source: z.enum(['measured', 'cache']),
  measuredAt: z.string(),
});

export const EnvRecordSchema = z.object({
  schema: z.literal('muonlab.env/1'),
  createdAt: z.string(),
  muonlabVersion: z.string(),
  node: z.string(),
  platform: z.string(),
  browser: z.object({ path: z.string(), source: z.string(), version: z.string(), userAgent: z.string() }),
  flags: z.array(z.string()),
  adapter: AdapterSchema,
  features: z.array(z.string()),
  limits: z.record(z.string(), z.number()),
  variants: VariantSelectionSchema.optional(),
});

export const CheckRowSchema = z.object({
  kernel: z.string(),
  variant: z.string(),
  caseId: z.string(),
  pass: z.boolean(),
  maxAbsError: z.number().nullable(),
  worstRatio: z.number().nullable(),
  error: z.string().optional(),
});

export const CheckReportSchema = z.object({
  schema: z.literal('muonlab.check/1'),
  createdAt: z.string(),
  kernels: z.array(z.string()),
  passed: z.number().int(),
  failed: z.number().int(),
  rows: z.array(CheckRowSchema),
});

export const BenchRowSchema = z.object({
  kernel: z.string(),
  variant: z.string(),
  shape: z.string(),
  runs: z.number().int(),
  medianMs: z.number(),
  minMs: z.number(),
  firstRunMs: z.number(),
  flops: z.number(),
  gflops: z.number(),
  timing: z.enum(['timestamp-query', 'wall-clock']),
  chosen: z.boolean().optional(),
  note: z.string().optional(),
  bytes: z.number().optional(),
  gbps: z.number().optional(),
  peakFraction: z.number().nullable().optional(),
});

export const BenchReportSchema = z.object({
  schema: z.literal('muonlab.bench/1'),
  createdAt: z.string(),
  kernels: z.array(z.string()),
  env: EnvRecordSchema,
  rows: z.array(BenchRowSchema),
  /** This adapter's FMA peak and copy bandwidth (src/kernels/fmaPeak/fmaPeak.ts), the base of peakFraction. */
  peak: z.object({ gflops: z.number(), gbps: z.number().nullable() }).nullable().optional(),
});

export type EnvRecord = z.infer<typeof EnvRecordSchema>;
export type VariantSelection = z.infer<typeof VariantSelectionSchema>;
export type CheckReport = z.infer<typeof CheckReportSchema>;
export type BenchReport = z.infer<typeof BenchReportSchema>;

/** JSON cannot hold NaN/Infinity: numbers that are not finite are written as null. */
export function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

/** A preset's cell (src/experiments/presets/types.ts PresetCell) as stored on disk. */
export const PresetCellSchema = z.object({ id: z.string().min(1), cost: z.number(), params: z.record(z.string(), z.unknown()) });

/** `<preset>-<scale>/preset.json`: which preset, scale and cells the folder holds results for. */
export const PresetRunManifestSchema = z.object({
  schema: z.literal('muonlab.preset-run/1'),
  preset: z.string(),
  scale: z.enum(['ci', 'quick', 'full']),
  cells: z.array(PresetCellSchema),
});

/** `<preset>-<scale>/cells/<id>/result.json`: one cell's raw result (what summaries are recomputed from). */
export const PresetCellFileSchema = z.object({
  schema: z.literal('muonlab.preset-cell/1'),
  preset: z.string(),
  scale: z.enum(['ci', 'quick', 'full']),
  cell: PresetCellSchema,
  result: z.record(z.string(), z.unknown()),
  elapsedMs: z.number(),
  createdAt: z.string(),
});

/** One run of one cell of a config sweep, recomputed from metrics.jsonl and the per-item files. */
export const SweepRunSummarySchema = z.object({
  run: z.number().int(),
  optimizer: z.string(),
  runSeed: z.number(),
  lastStep: z.number().int(),
  loss: z.number().nullable(),
  /** The record's capacity (over metrics.evalItems). */
  capacity: z.number(),
  /** Recovered items over all N from the per-item `correct` file of the cell's last step (null without it). */
  capacityAllItems: z.number().nullable(),
  diverged: z.boolean(),
  divergedAtStep: z.number().nullable(),
  /** non-finite, or loss-growth (past training.divergence.lossMultiple × the step-0 loss). */
  divergedReason: z.enum(['non-finite', 'loss-growth']).nullable().optional(),
});

/** `summary.json` at a config run's root: every finished cell, and power-law fits along numeric axes. */
export const SweepSummarySchema = z.object({
  schema: z.literal('muonlab.sweep-summary/1'),
  name: z.string(),
  createdAt: z.string(),
  cells: z.array(z.object({ id: z.string(), index: z.number().int(), point: z.record(z.string(), z.unknown()), runs: z.array(SweepRunSummarySchema) })),
  /** Cells of the sweep with no finished result in this folder. */
  missing: z.array(z.string()),
  fits: z.array(z.object({
    axis: z.string(),
    optimizer: z.string(),
    quantity: z.literal('capacity'),
    slope: z.number(),
    slopeCI: z.tuple([z.number().nullable(), z.number().nullable()]),
    intercept: z.number(),
    points: z.number().int(),
  })),
});

export type PresetRunManifest = z.infer<typeof PresetRunManifestSchema>;
export type PresetCellFile = z.infer<typeof PresetCellFileSchema>;
export type SweepSummary = z.infer<typeof SweepSummarySchema>;
