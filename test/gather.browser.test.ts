// The row gather on the real adapter (src/kernels/gather/gather.ts, shaders/gather/gather.wgsl) against its CPU
// twin (src/cpu/gather.ts). A gather copies values and computes nothing, so the tolerance is zero
// (0 absolute, 0 relative): the GPU's output must equal the twin's bit for bit, and an index out of
// range must give a NaN row on both sides (any NaN: payload bits are not part of the contract).
// Case ids are addressable: `-t "outOfRange"`, `-t "rows=70000"`.
import { describe, expect, test } from 'vitest';
import { hostTensor } from '../src/cpu/hostTensor';
import { gatherRowsCpu } from '../src/cpu/gather';
import { runCommands } from '../src/gpu/commands';
import type { Gpu } from '../src/gpu/device';
import { locateLine } from '../src/gpu/composeWgsl';
import { kernelSource } from '../src/gpu/registry';
import { createTensor, readTensor, runRange, uploadTensor, type Tensor } from '../src/gpu/tensor';
import { GATHER_KERNEL, gatherRows } from '../src/kernels/gather/gather';
import { checkGather, gatherCaseId, gatherCases, runGatherCase } from '../src/kernels/gather/check';
import { benchGather } from '../src/kernels/gather/bench';
import { gpuOrSkip, withErrorScopes } from './gpuFixture';

let compileErrors: Promise<string[]> | undefined;

/**
 * gpuOrSkip, plus a one-time check that the gather shader compiles on this device, failing with the
 * compiler's messages if not. Without it a shader error costs the whole file's timeouts: the
 * registry caches the invalid module and asks it for getCompilationInfo() on every retry, and
 * Chromium settles that promise only the first time it is asked.
 */
async function gatherGpuOrSkip(ctx: Parameters<typeof gpuOrSkip>[0]): Promise<Gpu | undefined> {
  const gpu = await gpuOrSkip(ctx);
  if (!gpu) return undefined;
  compileErrors ??= (async () => {
    gpu.device.pushErrorScope('validation');
    const source = kernelSource(GATHER_KERNEL);
    const module = gpu.device.createShaderModule({ label: 'gather compile check', code: source.code });
    const info = await module.getCompilationInfo();
    await gpu.device.popErrorScope();
    return info.messages.filter((m) => m.type === 'error').map((m) => `${locateLine(source.lines, m.lineNum)}:${m.linePos} ${m.message}`);
  })();
  const errors = await compileErrors;
  if (errors.length) throw new Error(`shaders/gather/gather.wgsl does not compile:\n${errors.join('\n')}`);
  return gpu;
}

/** Indices where got and want differ: unequal bits, except that NaN matches NaN. Written here, not
 * imported from the code under test, so a wrong comparison there cannot hide a wrong kernel. */
function bitDifferences(got: Float32Array, want: Float32Array): number[] {
  expect(got.length).toBe(want.length);
  const g = new Uint32Array(got.buffer, got.byteOffset, got.length);
  const w = new Uint32Array(want.buffer, want.byteOffset, want.length);
  const diff: number[] = [];
  for (let i = 0; i < got.length; i++) {
    if (g[i] !== w[i] && !(Number.isNaN(got[i]) && Number.isNaN(want[i]))) diff.push(i);
  }
  return diff;
}

// A 3×2 table shared by 2 runs; run 0 draws rows 2, 0 and 7 (out of range), run 1 rows 1, 1, 0:
//   run 0 → [[5,6],[1,2],[NaN,NaN]], run 1 → [[3,4],[3,4],[1,2]]
const TABLE = [1, 2, 3, 4, 5, 6];
const DRAWS = [2, 0, 7, 1, 1, 0];
const GATHERED = [5, 6, 1, 2, NaN, NaN, 3, 4, 3, 4, 1, 2];

describe('gather by hand', () => {
  test('CPU twin: 3x2 shared table, 2 runs x 3 draws, one out of range', () => {
    const out = hostTensor({ batch: 2, rows: 3, cols: 2 });
    gatherRowsCpu({
      src: hostTensor({ rows: 3, cols: 2, data: Float64Array.from(TABLE) }),
      index: hostTensor({ batch: 2, rows: 3, cols: 1, dtype: 'u32', data: Uint32Array.from(DRAWS) }),
      out,
    });
    expect([...out.data]).toEqual(GATHERED);
  });

  test('CPU twin reads indices as u32: −1 is 4294967295, out of range', () => {
    const out = hostTensor({ rows: 1, cols: 2 });
    gatherRowsCpu({
      src: hostTensor({ rows: 3, cols: 2, data: Float64Array.from(TABLE) }),
      index: hostTensor({ rows: 1, cols: 1, dtype: 'u32', data: Float64Array.from([-1]) }),
      out,
    });
    expect([...out.data]).toEqual([NaN, NaN]);
  });

  test('GPU: 3x2 shared table, 2 runs x 3 draws, one out of range', async (ctx) => {
    const gpu = await gatherGpuOrSkip(ctx);
    if (!gpu) return;
    const created: Tensor[] = [];
    try {
      const got = await withErrorScopes(gpu, async () => {
        const src = uploadTensor(gpu, { rows: 3, cols: 2, label: 'table' }, TABLE);
        const index = uploadTensor(gpu, { batch: 2, rows: 3, cols: 1, dtype: 'u32', label: 'draws' }, DRAWS);
        const out = uploadTensor(gpu, { batch: 2, rows: 3, cols: 2, label: 'rows' }, new Array(12).fill(-7));
        created.push(src, index, out);
        await runCommands(gpu, (rec) => gatherRows(rec, { src, index, out }));
        return readTensor(gpu, out);
      });
      expect([...got]).toEqual(GATHERED);
    } finally {
      for (const t of created) t.buffer.destroy();
    }
  });
});

// A 2-run stored table [[1,2],[3,4]] | [[5,6],[7,8]]; the call shares run 1 (runRange(…, 1, 1): batch 1,
// stored batch stride 4, offset 4) across 2 runs drawing rows [0,1] and [1,0]:
//   run 0 → [[5,6],[7,8]], run 1 → [[7,8],[5,6]]. Applying the stored stride would send run 1 past the table.
const TWO_TABLES = [1, 2, 3, 4, 5, 6, 7, 8];
const VIEW_DRAWS = [0, 1, 1, 0];
const VIEW_GATHERED = [5, 6, 7, 8, 7, 8, 5, 6];

describe('gather by hand: a batch-1 view is shared', () => {
  test('CPU twin', () => {
    const out = hostTensor({ batch: 2, rows: 2, cols: 2 });
    const tables = hostTensor({ batch: 2, rows: 2, cols: 2, data: Float64Array.from(TWO_TABLES) });
    gatherRowsCpu({
      src: runRange(tables, 1, 1),
      index: hostTensor({ batch: 2, rows: 2, cols: 1, dtype: 'u32', data: Uint32Array.from(VIEW_DRAWS) }),
      out,
    });
    expect([...out.data]).toEqual(VIEW_GATHERED);
  });

  test('GPU', async (ctx) => {
    const gpu = await gatherGpuOrSkip(ctx);
    if (!gpu) return;
    const created: Tensor[] = [];
    try {
      const got = await withErrorScopes(gpu, async () => {
        const tables = uploadTensor(gpu, { batch: 2, rows: 2, cols: 2, label: 'tables' }, TWO_TABLES);
        const index = uploadTensor(gpu, { batch: 2, rows: 2, cols: 1, dtype: 'u32', label: 'draws' }, VIEW_DRAWS);
        const out = createTensor(gpu, { batch: 2, rows: 2, cols: 2, label: 'rows' });
        created.push(tables, index, out);
        await runCommands(gpu, (rec) => gatherRows(rec, { src: runRange(tables, 1, 1), index, out }));
        return readTensor(gpu, out);
      });
      expect([...got]).toEqual(VIEW_GATHERED);
    } finally {
      for (const t of created) t.buffer.destroy();
    }
  });
});

describe('gather vs CPU twin (bitwise)', () => {
  for (const c of gatherCases('full')) {
    test(gatherCaseId(c), async (ctx) => {
      const gpu = await gatherGpuOrSkip(ctx);
      if (!gpu) return;
      const r = await withErrorScopes(gpu, () => runGatherCase(gpu, c, 7));
      const diff = bitDifferences(r.got, r.want);
      expect(diff.length, `first difference at ${diff[0]}: got ${r.got[diff[0]]}, want ${r.want[diff[0]]}`).toBe(0);
      // The NaN rows are really there (the comparison above would also pass if both sides lacked them).
      const nans = r.got.filter(Number.isNaN).length;
      expect(nans).toBe(r.nanRows * c.cols);
      if (c.badIndices?.length) expect(r.nanRows).toBe(c.badIndices.length);
    });
  }
});

describe('gather rejects bad calls before dispatch, naming the operand', () => {
  /** Shared 5×4 table, 2 runs × 3 draws → out 2×3×4: a valid call; each case breaks one thing. */
  function operands(gpu: Gpu, created: Tensor[]) {
    const make = (t: Tensor) => (created.push(t), t);
    return {
      src: make(uploadTensor(gpu, { rows: 5, cols: 4, label: 'table' }, new Array(20).fill(1))),
      index: make(uploadTensor(gpu, { batch: 2, rows: 3, cols: 1, dtype: 'u32', label: 'draws' }, [0, 1, 2, 3, 4, 0])),
      out: make(createTensor(gpu, { batch: 2, rows: 3, cols: 4, label: 'rows' })),
    };
  }
  type Ops = ReturnType<typeof operands>;
  const cases: { name: string; change: (ops: Ops, gpu: Gpu, created: Tensor[]) => Ops; message: RegExp }[] = [
    {
      name: 'src cols ≠ out cols',
      change: (ops, gpu, created) => ({
        ...ops,
        src: (created.push(createTensor(gpu, { rows: 5, cols: 3, label: 'narrow' })), created.at(-1)!),
      }),
      message: /gather operand src has 3 columns but operand out has 4/,
    },
    {
      name: 'index rows ≠ out rows',
      change: (ops, gpu, created) => ({
        ...ops,
        index: (created.push(createTensor(gpu, { batch: 2, rows: 4, cols: 1, dtype: 'u32', label: 'i' })), created.at(-1)!),
      }),
      message: /gather operand index has 4 rows but operand out has 3/,
    },
    {
      name: 'index batch neither 1 nor out batch',
      change: (ops, gpu, created) => ({
        ...ops,
        index: (created.push(createTensor(gpu, { batch: 3, rows: 3, cols: 1, dtype: 'u32', label: 'i' })), created.at(-1)!),
      }),
      message: /gather operand index has batch 3; expected 1 \(shared\) or 2/,
    },
    {
      name: 'src batch neither 1 nor out batch',
      change: (ops, gpu, created) => ({
        ...ops,
        src: (created.push(createTensor(gpu, { batch: 3, rows: 5, cols: 4, label: 's' })), created.at(-1)!),
      }),
      message: /gather operand src has batch 3; expected 1 \(shared\) or 2/,
    },
    {
      name: 'index dtype f32',
      change: (ops) => ({ ...ops, index: { ...ops.index, dtype: 'f32' } }),
      message: /gather operand index: dtype must be u32, got f32/,
    },
    {
      name: 'src dtype u32',
      change: (ops) => ({ ...ops, src: { ...ops.src, dtype: 'u32' } }),
      message: /gather operand src: dtype must be f32, got u32/,
    },
    {
      name: 'index with 2 columns',
      change: (ops) => ({ ...ops, index: { ...ops.index, rows: 3, cols: 2, batch: 1 } }),
      message: /gather operand index is 1×3×2; expected \[batch, rows, 1\]/,
    },
    {
      // The layout claims 10 table rows (160 bytes) but the buffer holds 5 (80 bytes).
      name: 'src buffer too small for its layout',
      change: (ops) => ({ ...ops, src: { ...ops.src, rows: 10 } }),
      message: /gather operand src: layout needs 160 bytes but buffer "table" has 80/,
    },
    {
      name: 'out buffer too small for its layout',
      change: (ops) => ({ ...ops, out: { ...ops.out, offset: 4 } }),
      message: /gather operand out: layout needs 112 bytes but buffer "rows" has 96/,
    },
    {
      // Same buffer as src and out (a 2×3×4 out view over a 6×4 "table" would fit): the registry's
      // binding check refuses a written binding that aliases another one.
      name: 'out aliasing src',
      change: (ops, gpu, created) => {
        const both = createTensor(gpu, { rows: 6, cols: 4, label: 'both' });
        created.push(both);
        return { ...ops, src: both, out: { ...both, batch: 2, rows: 3, batchStride: 12 } };
      },
      message: /buffer "both" is bound to "out" \(written\) and to "src"/,
    },
  ];
  for (const c of cases) {
    test(`${c.name}; a valid call after it still works`, async (ctx) => {
      const gpu = await gatherGpuOrSkip(ctx);
      if (!gpu) return;
      const created: Tensor[] = [];
      try {
        const ops = operands(gpu, created);
        await expect(runCommands(gpu, (rec) => gatherRows(rec, c.change(ops, gpu, created)))).rejects.toThrow(c.message);
        // No poisoned device: the same device gathers correctly right after (rows 0,1,2 / 3,4,0 of ones).
        await withErrorScopes(gpu, () => runCommands(gpu, (rec) => gatherRows(rec, ops)));
        expect([...(await readTensor(gpu, ops.out))]).toEqual(new Array(24).fill(1));
      } finally {
        for (const t of created) t.buffer.destroy();
      }
    });
  }
});

describe('gather check and bench entries', () => {
  test('checkGather quick: one passing row per case, kernel gather, variant default', async (ctx) => {
    const gpu = await gatherGpuOrSkip(ctx);
    if (!gpu) return;
    const rows = await checkGather(gpu, { scope: 'quick' });
    expect(rows.map((r) => r.caseId)).toEqual(gatherCases('quick').map(gatherCaseId));
    for (const r of rows) {
      expect(r, r.caseId).toMatchObject({ kernel: 'gather', variant: 'default', pass: true, worstRatio: 0, maxAbsError: 0 });
      expect(r.error).toBeUndefined();
    }
  });

  test('benchGather: a timed row with a median and the bandwidth in its note', async (ctx) => {
    const gpu = await gatherGpuOrSkip(ctx);
    if (!gpu) return;
    const rows = await benchGather(gpu, { runs: 3, shapes: ['4096x64'] });
    expect(rows).toHaveLength(1);
    const [row] = rows;
    expect(row).toMatchObject({ kernel: 'gather', variant: 'default', shape: '4096x64 from 100000x64', flops: 0, chosen: true });
    expect(row.timing).toBe(gpu.hasTimestamps ? 'timestamp-query' : 'wall-clock');
    expect(row.runs).toBeGreaterThanOrEqual(1);
    expect(row.runs).toBeLessThanOrEqual(3);
    expect(row.medianMs).toBeGreaterThan(0);
    expect(row.minMs).toBeLessThanOrEqual(row.medianMs);
    expect(row.firstRunMs).toBeGreaterThan(0);
    expect(row.note).toMatch(/\d+\.\d\d GB\/s/);
  });

  test('benchGather rejects an unknown variant and a bad run count', async (ctx) => {
    const gpu = await gatherGpuOrSkip(ctx);
    if (!gpu) return;
    await expect(benchGather(gpu, { variants: ['vec4'] })).rejects.toThrow(/unknown variant "vec4"; variants: default/);
    await expect(benchGather(gpu, { runs: 0 })).rejects.toThrow(/runs must be a positive integer/);
  });
});
