/**
 * The validate and benchmark steps of the row gather (`muonlab check gather`, `muonlab bench gather`).
 *
 * A gather is a copy, so the check is exact: the GPU's output must be bit-for-bit the CPU twin's
 * (src/cpu/gather.ts), with every NaN row (index out of range) NaN on both sides. Cases cover a
 * shared table, per-run tables, a shared index, run sub-range views, out-of-range indices, odd
 * sizes around the 64-wide workgroup, and more rows than one dispatch can hold along y.
 */
import { runCommands } from '../../gpu/commands';
import type { Gpu } from '../../gpu/device';
import { readTensor, uploadTensor, type Tensor, type TensorLayout } from '../../gpu/tensor';
import { gatherRowsCpu, gatherShape } from '../../cpu/gather';
import type { HostTensor } from '../../cpu/hostTensor';
import { randomF32, seededUniform } from '../../cpu/random';
import { finiteOrNull } from '../../experiments/results';
import type { CheckRow } from '../family';
import { gatherRows } from './gather';

export interface GatherCase {
  /** Runs the call covers (out's batch). */
  batch: number;
  /** Output rows per run (= index rows). */
  rows: number;
  cols: number;
  /** Rows of the table gathered from. */
  srcRows: number;
  /** Operands given with batch count 1, shared by every run. */
  shared?: ('src' | 'index')[];
  /** Operate on runs [start, start + batch) of tensors holding `of` runs (offset views, no copy). */
  runRange?: { start: number; of: number };
  /**
   * The shared table is run `run` of a stored `of`-run tensor, taken with runRange(…, run, 1): batch 1
   * but a nonzero batch stride, which must still mean "shared" (the stride must not be applied).
   */
  srcView?: { run: number; of: number };
  /** Index values written over the random draws at these positions (flat, within the index tensor). */
  badIndices?: { at: number; value: number }[];
}

/** Addressable id, e.g. `batch=3,rows=17,cols=24,srcRows=50,shared=src`. */
export function gatherCaseId(c: GatherCase): string {
  let id = `batch=${c.batch},rows=${c.rows},cols=${c.cols},srcRows=${c.srcRows}`;
  if (c.shared?.length) id += `,shared=${c.shared.join('+')}`;
  if (c.runRange) id += `,runs=${c.runRange.start}..${c.runRange.start + c.batch - 1}of${c.runRange.of}`;
  if (c.srcView) id += `,src=run${c.srcView.run}of${c.srcView.of}`;
  if (c.badIndices?.length) id += `,outOfRange=${c.badIndices.map((b) => b.value).join('+')}`;
  return id;
}

/** The check suite; `quick` keeps the shared-table, out-of-range and odd-size cases. */
export function gatherCases(scope: 'full' | 'quick' = 'full'): GatherCase[] {
  const sharedTable: GatherCase = { batch: 3, rows: 17, cols: 24, srcRows: 50, shared: ['src'] };
  // srcRows itself (one past the end), 2^32 − 1 (what −1 becomes as a u32) and a plain large value.
  const outOfRange: GatherCase = {
    batch: 2,
    rows: 6,
    cols: 8,
    srcRows: 10,
    shared: ['src'],
    badIndices: [
      { at: 1, value: 10 },
      { at: 3, value: 0xffffffff },
      { at: 8, value: 1000 },
    ],
  };
  const odd: GatherCase = { batch: 2, rows: 5, cols: 65, srcRows: 7 };
  if (scope === 'quick') return [sharedTable, outOfRange, odd];
  return [
    sharedTable,
    { batch: 3, rows: 11, cols: 13, srcRows: 20 },
    outOfRange,
    odd,
    { batch: 1, rows: 1, cols: 1, srcRows: 1 },
    { batch: 4, rows: 9, cols: 63, srcRows: 31, shared: ['index'] },
    { batch: 2, rows: 3, cols: 64, srcRows: 5, shared: ['src', 'index'] },
    { batch: 2, rows: 7, cols: 5, srcRows: 9, runRange: { start: 1, of: 4 } },
    { batch: 3, rows: 4, cols: 129, srcRows: 6, shared: ['src'], runRange: { start: 2, of: 5 } },
    { batch: 3, rows: 5, cols: 6, srcRows: 8, srcView: { run: 1, of: 3 } },
    // The one ~1000-scale case of the family: a minibatch of 1000 rows from a 5000-item table.
    { batch: 2, rows: 1000, cols: 64, srcRows: 5000, shared: ['src'] },
    // More rows than one dispatch holds along y (65535): exercises the chunked dispatch.
    { batch: 1, rows: 70_000, cols: 2, srcRows: 100, shared: ['src'] },
  ];
}

/** An operand's view and the tensor it is a view of (`storedBatch` matrices, contiguous). */
interface OperandLayout {
  view: TensorLayout;
  storedBatch: number;
}

interface CaseLayouts {
  src: OperandLayout;
  index: OperandLayout;
  out: OperandLayout;
}

function caseLayouts(c: GatherCase): CaseLayouts {
  const stored = c.runRange?.of ?? c.batch;
  const start = c.runRange?.start ?? 0;
  const make = (rows: number, cols: number, shared: boolean, dtype: 'f32' | 'u32'): OperandLayout => {
    const n = shared ? 1 : stored;
    const view = {
      batch: shared ? 1 : c.batch,
      rows,
      cols,
      batchStride: n > 1 ? rows * cols : 0,
      offset: shared ? 0 : start * rows * cols,
      dtype,
    };
    return { view, storedBatch: n };
  };
  const src = c.srcView
    ? {
        view: {
          batch: 1,
          rows: c.srcRows,
          cols: c.cols,
          batchStride: c.srcRows * c.cols,
          offset: c.srcView.run * c.srcRows * c.cols,
          dtype: 'f32' as const,
        },
        storedBatch: c.srcView.of,
      }
    : make(c.srcRows, c.cols, Boolean(c.shared?.includes('src')), 'f32');
  return {
    src,
    index: make(c.rows, 1, Boolean(c.shared?.includes('index')), 'u32'),
    out: make(c.rows, c.cols, false, 'f32'),
  };
}

export interface GatherCaseResult {
  /** The whole stored out tensor after the GPU call (runs outside a sub-range included). */
  got: Float32Array;
  /** The CPU twin's, from the same inputs and the same initial out. */
  want: Float32Array;
  /** Number of output rows whose index was out of range (NaN rows expected). */
  nanRows: number;
}

/**
 * Runs one case on the GPU and on the CPU twin from the same inputs. `out` starts filled with
 * random values, not zeros, so an element the kernel fails to write cannot match by accident, and
 * the whole stored tensor is compared, so a write outside the view is caught too.
 */
export async function runGatherCase(gpu: Gpu, c: GatherCase, seed = 1): Promise<GatherCaseResult> {
  const L = caseLayouts(c);
  const storedCount = (l: OperandLayout) => l.storedBatch * l.view.rows * l.view.cols;
  const srcData = randomF32(storedCount(L.src), seed, -4, 4);
  const outData = randomF32(storedCount(L.out), seed + 1, 100, 200);
  const next = seededUniform(seed + 2);
  const indexData = new Uint32Array(storedCount(L.index));
  for (let i = 0; i < indexData.length; i++) indexData[i] = Math.floor(next() * c.srcRows);
  for (const bad of c.badIndices ?? []) indexData[bad.at] = bad.value;

  const created: Tensor[] = [];
  // Upload the whole stored tensor, then take the case's view of it (same buffer, no copy).
  const upload = (l: OperandLayout, data: Float32Array<ArrayBuffer> | Uint32Array<ArrayBuffer>, label: string): Tensor => {
    const { view } = l;
    const full = uploadTensor(gpu, { batch: l.storedBatch, rows: view.rows, cols: view.cols, dtype: view.dtype, label }, data);
    created.push(full);
    return { ...full, ...view };
  };
  try {
    const src = upload(L.src, srcData, 'check gather src');
    const index = upload(L.index, indexData, 'check gather index');
    // out is always f32: uploaded as such, so its readback is typed Float32Array.
    const outFull = uploadTensor(
      gpu,
      { batch: L.out.storedBatch, rows: L.out.view.rows, cols: L.out.view.cols, label: 'check gather out' },
      outData,
    );
    created.push(outFull);
    const out = { ...outFull, ...L.out.view };
    await runCommands(gpu, (rec) => gatherRows(rec, { src, index, out }));
    const got = await readTensor(gpu, outFull);

    const host = (l: OperandLayout, data: HostTensor['data']): HostTensor => ({ ...l.view, data });
    const wantOut = host(L.out, Float64Array.from(outData));
    gatherRowsCpu({ src: host(L.src, Float64Array.from(srcData)), index: host(L.index, indexData), out: wantOut });

    let nanRows = 0;
    const s = gatherShape({ src: L.src.view, index: L.index.view, out: L.out.view });
    for (let b = 0; b < s.batch; b++) {
      for (let r = 0; r < s.rows; r++) {
        if (indexData[L.index.view.offset + b * s.batchStrideIndex + r] >= c.srcRows) nanRows++;
      }
    }
    return { got, want: Float32Array.from(wantOut.data), nanRows };
  } finally {
    for (const t of created) t.buffer.destroy();
  }
}

export interface BitwiseComparison {
  pass: boolean;
  /** Elements whose bits differ (any NaN matches any NaN: payloads are not part of the contract). */
  mismatches: number;
  firstMismatch: number;
  maxAbsError: number;
}

/** Exact comparison of two f32 arrays: equal bit patterns (so −0 ≠ +0), or NaN on both sides. */
export function compareBitwise(got: Float32Array, want: Float32Array): BitwiseComparison {
  if (got.length !== want.length) throw new RangeError(`compareBitwise: ${got.length} values against ${want.length}`);
  const gotBits = new Uint32Array(got.buffer, got.byteOffset, got.length);
  const wantBits = new Uint32Array(want.buffer, want.byteOffset, want.length);
  let mismatches = 0;
  let firstMismatch = -1;
  let maxAbsError = 0;
  for (let i = 0; i < got.length; i++) {
    if (gotBits[i] === wantBits[i] || (Number.isNaN(got[i]) && Number.isNaN(want[i]))) continue;
    mismatches++;
    if (firstMismatch < 0) firstMismatch = i;
    const err = Math.abs(got[i] - want[i]);
    maxAbsError = Number.isNaN(err) ? Infinity : Math.max(maxAbsError, err);
  }
  return { pass: mismatches === 0, mismatches, firstMismatch, maxAbsError };
}

/**
 * Runs the gather suite and returns one row per case (kernel "gather", variant "default").
 * `worstRatio` is 0 for an exact match and null (unbounded) otherwise: a gather has no error budget.
 *
 * @example
 * const rows = await checkGather(gpu, { scope: 'quick' });
 * rows.filter((r) => !r.pass); // [] on a working adapter
 */
export async function checkGather(gpu: Gpu, options: { scope?: 'full' | 'quick' } = {}): Promise<CheckRow[]> {
  const rows: CheckRow[] = [];
  for (const c of gatherCases(options.scope)) {
    const caseId = gatherCaseId(c);
    try {
      const r = await runGatherCase(gpu, c);
      const cmp = compareBitwise(r.got, r.want);
      // JSON-safe like every check row: a non-finite error (a NaN where a number belongs) is null.
      const row: CheckRow = {
        kernel: 'gather',
        variant: 'default',
        caseId,
        pass: cmp.pass,
        maxAbsError: finiteOrNull(cmp.maxAbsError),
        worstRatio: cmp.pass ? 0 : null,
      };
      if (!cmp.pass)
        row.error = `${cmp.mismatches} of ${r.got.length} elements differ, first at ${cmp.firstMismatch} (got ${r.got[cmp.firstMismatch]}, want ${r.want[cmp.firstMismatch]})`;
      rows.push(row);
    } catch (err) {
      rows.push({
        kernel: 'gather',
        variant: 'default',
        caseId,
        pass: false,
        maxAbsError: null,
        worstRatio: null,
        error: (err as Error).message,
      });
    }
  }
  return rows;
}
