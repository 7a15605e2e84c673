// Bad calls to matmul (src/kernels/matmul/matmul.ts) on the real device: each must reject before anything
// reaches the GPU, with a message that names the operand or binding at fault, and must leave the
// device usable — the valid call that follows each one runs and gives the right numbers.
//
// The follow-up call is P·Q for P = [[1,2],[3,4]], Q = [[5,6],[7,8]]:
//   [[1·5+2·7, 1·6+2·8], [3·5+4·7, 3·6+4·8]] = [[19, 22], [43, 50]]
// Small integers: every product and sum is exact in f32, so the check is exact (0 abs, 0 rel).
import { describe, expect, test } from 'vitest';
import { runCommands } from '../src/gpu/commands';
import type { Gpu } from '../src/gpu/device';
import { createTensor, readTensor, uploadTensor, type Tensor } from '../src/gpu/tensor';
import { matmul, type MatmulVariantName } from '../src/kernels/matmul/matmul';
import type { MatmulOperands } from '../src/layout/matmulShape';
import { gpuOrSkip, withErrorScopes } from './gpuFixture';

/** Tensors made by the test, destroyed after it (so one failure leaves nothing behind). */
class Made {
  readonly tensors: Tensor[] = [];
  constructor(readonly gpu: Gpu) {}
  zeros(label: string, rows: number, cols: number, batch = 1): Tensor {
    const t = createTensor(this.gpu, { batch, rows, cols, label });
    this.tensors.push(t);
    return t;
  }
  upload(label: string, rows: number, cols: number, data: number[]): Tensor {
    const t = uploadTensor(this.gpu, { rows, cols, label }, data);
    this.tensors.push(t);
    return t;
  }
  destroy(): void {
    for (const t of this.tensors) t.buffer.destroy();
  }
}

async function validCallStillWorks(gpu: Gpu, made: Made, variant?: MatmulVariantName): Promise<void> {
  const a = made.upload('P', 2, 2, [1, 2, 3, 4]);
  const b = made.upload('Q', 2, 2, [5, 6, 7, 8]);
  const c = made.zeros('PQ', 2, 2);
  await withErrorScopes(gpu, () => runCommands(gpu, async (rec) => void (await matmul(rec, { a, b, c }, { variant }))));
  expect([...(await readTensor(gpu, c))]).toEqual([19, 22, 43, 50]);
}

interface BadCall {
  name: string;
  /** Builds the call's operands (and options) on the device. */
  build: (made: Made) => { args: MatmulOperands<Tensor>; variant?: MatmulVariantName };
  message: RegExp;
}

const BAD_CALLS: BadCall[] = [
  {
    name: 'inner dimensions differ (A 4x3, B 5x4)',
    build: (m) => ({ args: { a: m.zeros('A', 4, 3), b: m.zeros('B', 5, 4), c: m.zeros('C', 4, 4) } }),
    message: /op\(A\) = A is 4×3 but op\(B\) = B is 5×4: inner dimensions 3 and 5 differ/,
  },
  {
    name: 'C has the wrong shape',
    build: (m) => ({ args: { a: m.zeros('A', 4, 3), b: m.zeros('B', 3, 5), c: m.zeros('C', 5, 4) } }),
    message: /matmul operand C is 5×4 but op\(A\)·op\(B\) is 4×5/,
  },
  {
    name: 'transpose flag makes the shapes disagree',
    build: (m) => ({ args: { a: m.zeros('A', 4, 3), b: m.zeros('B', 3, 5), c: m.zeros('C', 4, 5), transA: true } }),
    message: /op\(A\) = Aᵀ is 3×4 but op\(B\) = B is 3×5: inner dimensions 4 and 3 differ/,
  },
  {
    name: 'batch counts differ (A 2 runs, C 3 runs)',
    build: (m) => ({ args: { a: m.zeros('A', 4, 4, 2), b: m.zeros('B', 4, 4, 3), c: m.zeros('C', 4, 4, 3) } }),
    message: /matmul operand A has batch 2; expected 1 \(shared\) or 3/,
  },
  {
    name: 'batch counts differ (B 4 runs, C 3 runs)',
    build: (m) => ({ args: { a: m.zeros('A', 4, 4), b: m.zeros('B', 4, 4, 4), c: m.zeros('C', 4, 4, 3) } }),
    message: /matmul operand B has batch 4; expected 1 \(shared\) or 3/,
  },
  {
    // createTensor sized the buffer for 4×4 (64 bytes); the view claims 8 rows (128 bytes).
    name: 'buffer too small for its layout (A claims 8 rows, holds 4)',
    build: (m) => {
      const a = m.zeros('A', 4, 4);
      return { args: { a: { ...a, rows: 8 }, b: m.zeros('B', 4, 4), c: m.zeros('C', 8, 4) } };
    },
    message: /matmul operand A: layout needs 128 bytes but buffer "A" has 64/,
  },
  {
    // A run sub-range that runs past the stored runs: 2 runs of 16 elements at offset 16 need 48.
    name: 'buffer too small for its layout (C view past its last run)',
    build: (m) => {
      const c = m.zeros('C', 4, 4, 2);
      return { args: { a: m.zeros('A', 4, 4, 2), b: m.zeros('B', 4, 4), c: { ...c, offset: 16 } } };
    },
    message: /matmul operand C: layout needs 192 bytes but buffer "C" has 128/,
  },
  {
    name: 'C aliases A (written binding shares a buffer)',
    build: (m) => {
      const a = m.zeros('A', 4, 4);
      return { args: { a, b: m.zeros('B', 4, 4), c: a } };
    },
    message: /buffer "A" is bound to "c" \(written\) and to "a"/,
  },
  {
    name: 'C aliases B through a different view',
    build: (m) => {
      const b = m.zeros('B', 8, 4);
      return { args: { a: m.zeros('A', 4, 4), b: { ...b, rows: 4 }, c: { ...b, rows: 4, offset: 16 } } };
    },
    message: /buffer "B" is bound to "c" \(written\) and to "b"/,
  },
  {
    name: 'vec4 variant forced on an unaligned shape (M=5)',
    build: (m) => ({ args: { a: m.zeros('A', 5, 4), b: m.zeros('B', 4, 4), c: m.zeros('C', 5, 4) }, variant: 'register-blocked-vec4' }),
    message: /matmul variant register-blocked-vec4 needs M, N, K, offsets and batch strides that are multiples of 4; not aligned: M = 5 \(/,
  },
  {
    name: 'vec4 variant forced on an unaligned offset (A at element 2)',
    build: (m) => {
      const a = m.zeros('A', 5, 4);
      return { args: { a: { ...a, rows: 4, offset: 2 }, b: m.zeros('B', 4, 4), c: m.zeros('C', 4, 4) }, variant: 'register-blocked-vec4' };
    },
    message: /matmul variant register-blocked-vec4 needs .*multiples of 4; not aligned: A offset = 2 \(/,
  },
  {
    name: 'operand B is u32',
    build: (m) => ({ args: { a: m.zeros('A', 4, 4), b: { ...m.zeros('B', 4, 4), dtype: 'u32' }, c: m.zeros('C', 4, 4) } }),
    message: /matmul operand B: dtype must be f32, got u32/,
  },
  {
    name: 'alpha is NaN',
    build: (m) => ({ args: { a: m.zeros('A', 4, 4), b: m.zeros('B', 4, 4), c: m.zeros('C', 4, 4), alpha: NaN } }),
    message: /matmul: alpha must be finite, got NaN/,
  },
  {
    // A buffer made outside createTensor, without STORAGE usage: the binding check names "b".
    name: 'B buffer lacks STORAGE usage',
    build: (m) => {
      const buffer = m.gpu.device.createBuffer({
        label: 'B uniform-only',
        size: 64,
        usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      });
      const b: Tensor = { batch: 1, rows: 4, cols: 4, batchStride: 0, offset: 0, dtype: 'f32', buffer, label: 'B uniform-only' };
      m.tensors.push(b);
      return { args: { a: m.zeros('A', 4, 4), b, c: m.zeros('C', 4, 4) } };
    },
    message: /binding "b" .*buffer "B uniform-only" lacks STORAGE usage/,
  },
  {
    name: 'unknown variant name',
    build: (m) => ({
      args: { a: m.zeros('A', 4, 4), b: m.zeros('B', 4, 4), c: m.zeros('C', 4, 4) },
      variant: 'naive' as MatmulVariantName,
    }),
    message: /matmul: unknown variant "naive"/,
  },
];

describe('matmul bad calls reject, naming what is wrong, and leave the device usable', () => {
  for (const bad of BAD_CALLS) {
    test(bad.name, async (ctx) => {
      const gpu = await gpuOrSkip(ctx);
      if (!gpu) return;
      const made = new Made(gpu);
      try {
        const uncapturedBefore = gpu.uncapturedErrors.length;
        const { args, variant } = bad.build(made);
        await expect(runCommands(gpu, async (rec) => void (await matmul(rec, args, { variant })))).rejects.toThrow(bad.message);
        // Rejected before reaching WebGPU: nothing surfaced as an uncaptured validation error.
        expect(gpu.uncapturedErrors.slice(uncapturedBefore)).toEqual([]);
        await validCallStillWorks(gpu, made);
      } finally {
        made.destroy();
      }
    });
  }

  test('several bad calls in a row, then a valid call with each variant', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    const made = new Made(gpu);
    try {
      for (const bad of BAD_CALLS) {
        const { args, variant } = bad.build(made);
        await expect(
          runCommands(gpu, async (rec) => void (await matmul(rec, args, { variant }))),
          bad.name,
        ).rejects.toThrow(bad.message);
      }
      for (const variant of ['register-blocked', 'workgroup-tiled'] as const) await validCallStillWorks(gpu, made, variant);
    } finally {
      made.destroy();
    }
  });

  test('a bad call recorded after a good one fails the whole recording; the next one works', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    const made = new Made(gpu);
    try {
      const good = { a: made.zeros('A', 4, 4), b: made.zeros('B', 4, 4), c: made.zeros('C', 4, 4) };
      const bad = { ...good, b: made.zeros('B5', 5, 4) };
      await expect(
        runCommands(gpu, async (rec) => {
          await matmul(rec, good);
          await matmul(rec, bad);
        }),
      ).rejects.toThrow(/inner dimensions 4 and 5 differ/);
      await validCallStillWorks(gpu, made);
    } finally {
      made.destroy();
    }
  });
});
