/**
 * Upper bounds on what one run may ask for before anyone confirms it: a typo such as
 * `steps: 1e15` or `N: 1e9` must not start a run with an ETA of a trillion hours or allocate
 * gigabytes. The CLI refuses a config above them unless `--allow-large` is given; the page asks
 * for a confirmation before a share link runs one. The bounds are the largest sizes SPEC §5's `full`
 * scales use, with headroom — not the adapter's limits (those are checked by bufferProblems).
 */
import type { ExperimentConfig } from './config';
import type { SweepCell } from './sweep';

export const BOUNDS = {
  /** training.steps per cell. */
  steps: 100_000,
  /** task.N (SPEC: N up to 250,000). */
  N: 250_000,
  /** task.dIn, task.dOut. */
  d: 4096,
  /** optimizers × runSeeds of one cell (one GPU batch). */
  runsPerCell: 256,
  /** Cells of one sweep. */
  cells: 1000,
} as const;

/** SOFTMAX_OUTPUT_COLUMNS.length of src/kernels/softmaxGrad.ts. */
export const OUTPUT_COLUMNS = 5;

const fmt = (n: number) => n.toLocaleString('en-US');

/**
 * The ways a config (and its expanded cells) exceeds BOUNDS, one line each naming the field, or []
 * when it stays within them. Repeated values across cells are reported once per field.
 *
 * @example
 * boundsProblems(config, expandSweep(config)); // ['training.steps = 1e+15 is above the bound of 100,000 (give --allow-large to run it anyway)']
 */
export function boundsProblems(config: ExperimentConfig, cells: readonly SweepCell[]): string[] {
  const out = new Set<string>();
  const tail = '(give --allow-large to run it anyway)';
  if (cells.length > BOUNDS.cells) out.add(`sweep: ${fmt(cells.length)} cells is above the bound of ${fmt(BOUNDS.cells)} ${tail}`);
  for (const cell of cells.length ? cells.map((c) => c.config) : [config]) {
    const { steps, runSeeds } = cell.training;
    const { N, dIn, dOut } = cell.task;
    if (steps > BOUNDS.steps) out.add(`training.steps = ${steps} is above the bound of ${fmt(BOUNDS.steps)} ${tail}`);
    if (N > BOUNDS.N) out.add(`task.N = ${N} is above the bound of ${fmt(BOUNDS.N)} ${tail}`);
    if (dIn > BOUNDS.d) out.add(`task.dIn = ${dIn} is above the bound of ${fmt(BOUNDS.d)} ${tail}`);
    if (dOut > BOUNDS.d) out.add(`task.dOut = ${dOut} is above the bound of ${fmt(BOUNDS.d)} ${tail}`);
    const runs = cell.optimizers.length * runSeeds.length;
    if (runs > BOUNDS.runsPerCell)
      out.add(`optimizers × training.runSeeds = ${runs} runs per cell is above the bound of ${BOUNDS.runsPerCell} ${tail}`);
  }
  return [...out];
}

/** Bytes of the largest GPU buffers a cell allocates (what must fit the adapter's limits). */
export function cellBufferBytes(config: ExperimentConfig): { what: string; field: string; bytes: number }[] {
  const { N, dIn, dOut } = config.task;
  const runs = config.optimizers.length * config.training.runSeeds.length;
  const f32 = 4;
  // Softmax-gradient outputs: per run and item SOFTMAX_OUTPUT_COLUMNS (lse, loss, zTrue, pTrue,
  // correct) — written out so this module stays importable in Node; test/reliability checks they agree.
  const outputColumns = OUTPUT_COLUMNS;
  return [
    { what: 'per-item outputs of all runs', field: 'task.N', bytes: runs * N * outputColumns * f32 },
    { what: 'weights W of all runs', field: 'task.dIn', bytes: runs * dOut * dIn * f32 },
    { what: 'input embeddings', field: 'task.N', bytes: N * dIn * f32 },
    { what: 'output embeddings', field: 'task.N', bytes: N * dOut * f32 },
  ];
}

/**
 * Buffers of any cell that exceed the adapter's `maxBufferSize` or `maxStorageBufferBindingSize`,
 * one line each naming the field to shrink — checked on the Node side before the page allocates.
 *
 * @example
 * bufferProblems(cells, { maxBufferSize: 2 ** 30, maxStorageBufferBindingSize: 2 ** 27 });
 */
export function bufferProblems(cells: readonly SweepCell[], limits: Record<string, number>): string[] {
  const limit = Math.min(limits.maxBufferSize ?? Infinity, limits.maxStorageBufferBindingSize ?? Infinity);
  const out = new Set<string>();
  for (const cell of cells) {
    for (const b of cellBufferBytes(cell.config)) {
      if (b.bytes > limit) {
        out.add(
          `${b.field}: the ${b.what} need ${fmt(b.bytes)} bytes, above this adapter's storage-buffer limit of ${fmt(limit)} bytes (cell ${cell.id})`,
        );
      }
    }
  }
  return [...out];
}

/** The CPU reference materializes N × N logits per run: keep validation to small configs. */
export const VALIDATION_LIMITS = { N: 1024, d: 256 };

/**
 * Why a config is too large for `--validate` (checked in Node before the browser starts, and again
 * in the page), one entry per field; [] when it fits.
 *
 * @example
 * validationSizeProblems(config); // ['task.N = 5000 (at most 1024)']
 */
export function validationSizeProblems(config: ExperimentConfig): string[] {
  const { N, dIn, dOut } = config.task;
  const problems: string[] = [];
  if (N > VALIDATION_LIMITS.N) problems.push(`task.N = ${N} (at most ${VALIDATION_LIMITS.N})`);
  if (dIn > VALIDATION_LIMITS.d) problems.push(`task.dIn = ${dIn} (at most ${VALIDATION_LIMITS.d})`);
  if (dOut > VALIDATION_LIMITS.d) problems.push(`task.dOut = ${dOut} (at most ${VALIDATION_LIMITS.d})`);
  return problems;
}
