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
  /** Where the kernels ran (absent in records written before the Node host existed: the browser). */
  host: z.enum(['browser', 'node']).optional(),
  /** The browser; on the Node host, Dawn's binding and the Node version. */
  browser: z.object({ path: z.string(), source: z.string(), version: z.string(), userAgent: z.string() }),
  flags: z.array(z.string()),
  /** How the adapter was chosen (the Node host's Vulkan driver choice), with the reason. */
  adapterChoice: z.object({ source: z.string(), reason: z.string() }).optional(),
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
  cells: z.array(
    z.object({ id: z.string(), index: z.number().int(), point: z.record(z.string(), z.unknown()), runs: z.array(SweepRunSummarySchema) }),
  ),
  /** Cells of the sweep with no finished result in this folder. */
  missing: z.array(z.string()),
  fits: z.array(
    z.object({
      axis: z.string(),
      optimizer: z.string(),
      quantity: z.literal('capacity'),
      slope: z.number(),
      slopeCI: z.tuple([z.number().nullable(), z.number().nullable()]),
      intercept: z.number(),
      points: z.number().int(),
    }),
  ),
});

export type PresetRunManifest = z.infer<typeof PresetRunManifestSchema>;
export type PresetCellFile = z.infer<typeof PresetCellFileSchema>;
export type SweepSummary = z.infer<typeof SweepSummarySchema>;

/**
 * A prediction's verdict. `agrees` / `disagrees`: the measurement decides; `inconclusive`: it
 * cannot — its confidence interval is wider than the tolerance band, or the preset ran below the
 * size where the claim is meant to hold; `reported`: a figure stated without a check, never counted
 * as agreement. Only `disagrees` fails a run (exit status, `npm start`'s closing line).
 */
export const VERDICTS = ['agrees', 'disagrees', 'inconclusive', 'reported'] as const;
export type Verdict = (typeof VERDICTS)[number];

const SCALE_ORDER = ['ci', 'quick', 'full'] as const;

/**
 * The half-width of a tolerance written as `±x` or `x% relative` (relative to a numeric
 * prediction), or null for one-sided or worded tolerances (`> 1`, `lower bound`), which have no band.
 *
 * @example
 * toleranceHalfWidth('±0.25', 0.5); // 0.25
 * toleranceHalfWidth('10% relative', 2); // 0.2
 * toleranceHalfWidth('> 1', '> 1'); // null
 */
export function toleranceHalfWidth(tolerance: string, predicted: number | string): number | null {
  const plusMinus = /^±\s*([0-9.eE+-]+)/.exec(tolerance.trim());
  if (plusMinus && Number.isFinite(Number(plusMinus[1]))) return Number(plusMinus[1]);
  const relative = /^([0-9.]+)\s*% relative/.exec(tolerance.trim());
  if (relative && typeof predicted === 'number' && Number.isFinite(predicted)) return (Number(relative[1]) / 100) * Math.abs(predicted);
  return null;
}

/** What verdictOf looks at: a prediction record as a preset writes it. */
export interface VerdictInput {
  predicted: number | string;
  measured: number;
  ci?: [number, number] | null;
  tolerance: string;
  /** The preset's own comparison of measured with predicted. */
  agrees: boolean;
  /** A figure stated without a check. */
  reported?: boolean;
  /** The smallest scale at which the claim is meant to hold (the preset states it). */
  holdsFrom?: 'ci' | 'quick' | 'full';
}

/**
 * The verdict of one prediction at `scale`, and why when it is not the preset's own comparison.
 * Order: reported; below the claim's scale → inconclusive; a confidence interval wider than the
 * tolerance band (2 × half-width) → inconclusive, whichever side the point estimate falls on (the
 * data cannot decide); else the preset's comparison.
 *
 * @example
 * verdictOf({ predicted: 0, measured: 1.3, ci: [-4.9, 7.5], tolerance: '±0.25', agrees: false }, 'quick');
 * // { verdict: 'inconclusive', why: '95% interval [-4.90, 7.50] (width 12.4) is wider than the tolerance band ±0.25' }
 */
export function verdictOf(p: VerdictInput, scale: 'ci' | 'quick' | 'full'): { verdict: Verdict; why?: string } {
  if (p.reported || p.tolerance.trim() === 'reported') return { verdict: 'reported', why: 'stated, not checked' };
  if (p.holdsFrom && SCALE_ORDER.indexOf(scale) < SCALE_ORDER.indexOf(p.holdsFrom)) {
    return { verdict: 'inconclusive', why: `the claim is meant to hold from the ${p.holdsFrom} scale on; this run is ${scale}` };
  }
  const half = toleranceHalfWidth(p.tolerance, p.predicted);
  if (p.ci && half !== null && Number.isFinite(p.ci[0]) && Number.isFinite(p.ci[1]) && p.ci[1] - p.ci[0] > 2 * half) {
    const width = p.ci[1] - p.ci[0];
    return {
      verdict: 'inconclusive',
      why: `95% interval [${p.ci[0].toFixed(2)}, ${p.ci[1].toFixed(2)}] (width ${width.toPrecision(3)}) is wider than the tolerance band ${p.tolerance}`,
    };
  }
  return { verdict: p.agrees ? 'agrees' : 'disagrees' };
}

/** A prediction record in summary.json (muonlab.preset-summary/2). */
export const PredictionRecordSchema = z.object({
  name: z.string(),
  formula: z.string(),
  predicted: z.union([z.number(), z.string()]),
  measured: z.number().nullable(),
  ci: z.tuple([z.number().nullable(), z.number().nullable()]).nullable().optional(),
  tolerance: z.string(),
  /** verdict === 'agrees' (kept for readers of /1). */
  agrees: z.boolean(),
  verdict: z.enum(VERDICTS),
  why: z.string().optional(),
  reported: z.boolean().optional(),
  holdsFrom: z.enum(SCALE_ORDER).optional(),
});

const PresetSummaryBase = {
  preset: z.string(),
  scale: z.enum(SCALE_ORDER),
  createdAt: z.string(),
  settings: z.record(z.string(), z.unknown()),
  measurements: z.array(z.record(z.string(), z.unknown())),
  elapsedMs: z.number(),
};

/** `<preset>-<scale>/summary.json`, version 2: three-valued verdicts (+ reported rows). */
export const PresetSummarySchema = z
  .object({ schema: z.literal('muonlab.preset-summary/2'), ...PresetSummaryBase, predictions: z.array(PredictionRecordSchema) })
  .passthrough();

/** Version 1 (before verdicts): `agrees` only; a reported row had `agrees: true`. */
export const PresetSummaryV1Schema = z
  .object({
    schema: z.literal('muonlab.preset-summary/1'),
    ...PresetSummaryBase,
    predictions: z.array(PredictionRecordSchema.omit({ verdict: true, why: true, reported: true, holdsFrom: true })),
  })
  .passthrough();

export type PresetSummary = z.infer<typeof PresetSummarySchema>;

/**
 * Reads a preset summary of either version; a /1 file is upgraded: its rows get verdicts from the
 * same rules (a row whose tolerance is "reported" becomes `reported`, no longer an agreement).
 *
 * @example
 * const summary = readPresetSummary(JSON.parse(readFileSync('runs/c-multistep-ci/summary.json', 'utf8')));
 */
export function readPresetSummary(json: unknown): PresetSummary {
  const schema = (json as { schema?: unknown } | null)?.schema;
  if (schema === 'muonlab.preset-summary/1') {
    const old = PresetSummaryV1Schema.parse(json);
    return PresetSummarySchema.parse({
      ...old,
      schema: 'muonlab.preset-summary/2',
      predictions: old.predictions.map((p) => {
        const ci = p.ci && p.ci[0] !== null && p.ci[1] !== null ? ([p.ci[0], p.ci[1]] as [number, number]) : null;
        const { verdict, why } = verdictOf({ ...p, measured: p.measured ?? NaN, ci }, old.scale);
        return { ...p, verdict, ...(why ? { why } : {}), agrees: verdict === 'agrees' };
      }),
    });
  }
  return PresetSummarySchema.parse(json);
}
