/**
 * The validate and benchmark steps of the Philox RNG (`muonlab check philox`, `muonlab bench
 * philox`): published known-answer vectors, bit-identical u32 and uniform streams, normals within
 * WGSL's accuracy (the bound of test/philox.browser.test.ts: ≤ 4e-3 absolute for any N(0,1) value),
 * and GPU minibatch draws bit-identical to the CPU sampler.
 */
import { runCommands } from '../../gpu/commands';
import type { Gpu } from '../../gpu/device';
import { createTensor, readTensor } from '../../gpu/tensor';
import { philox4x32, philoxNormals, philoxU32, PHILOX_STREAMS, u32ToUniform } from '../../cpu/philox';
import type { CheckRow } from '../family';
import { philoxFill, type PhiloxFillArgs } from './philox';

const NORMAL_ABS_TOLERANCE = 4e-3;

async function fill(gpu: Gpu, args: Omit<PhiloxFillArgs, 'out'>): Promise<Uint32Array> {
  const out = createTensor(gpu, { rows: Math.max(1, args.count), cols: 1, dtype: 'u32', label: 'philox check' });
  try {
    await runCommands(gpu, (rec) => philoxFill(rec, { ...args, out }));
    return await readTensor(gpu, out);
  } finally {
    out.buffer.destroy();
  }
}

/** The published known-answer vectors of Philox-4x32-10 (Random123): id, counter, key, output. */
export const PHILOX_KATS: readonly [string, [number, number, number, number], [number, number], number[]][] = [
  ['kat zero', [0, 0, 0, 0], [0, 0], [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]],
  [
    'kat ones',
    [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff],
    [0xffffffff, 0xffffffff],
    [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd],
  ],
  ['kat pi', [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0], [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]],
];

/** The stream cases after the known answers: 100,000 values of each output mode. */
export const PHILOX_STREAM_CASES = ['u32 stream, 100000 values', 'uniform stream, 100000 values', 'normal stream, 100000 values'] as const;

/** Every check case id, in the order `checkPhilox` reports them. */
export const PHILOX_CHECK_CASE_IDS: readonly string[] = [...PHILOX_KATS.map(([id]) => id), ...PHILOX_STREAM_CASES];

export async function checkPhilox(gpu: Gpu): Promise<CheckRow[]> {
  const rows: CheckRow[] = [];
  const add = async (caseId: string, body: () => Promise<{ mismatches: number; maxAbs?: number; ratio?: number }>) => {
    try {
      const r = await body();
      rows.push({
        kernel: 'philox',
        variant: 'philox4x32-10',
        caseId,
        pass: r.mismatches === 0,
        maxAbsError: r.maxAbs ?? r.mismatches,
        worstRatio: r.ratio ?? (r.mismatches ? 1e9 : 0),
      });
    } catch (err) {
      rows.push({
        kernel: 'philox',
        variant: 'philox4x32-10',
        caseId,
        pass: false,
        maxAbsError: null,
        worstRatio: null,
        error: (err as Error).message,
      });
    }
  };
  for (const [id, counter, key, want] of PHILOX_KATS) {
    await add(id, async () => {
      const got = await fill(gpu, { count: 4, seed: key[0], stream: key[1], mode: 'raw', counter });
      const cpu = philox4x32(counter, key);
      return { mismatches: want.filter((w, i) => got[i] !== w || cpu[i] !== w).length };
    });
  }
  await add(PHILOX_STREAM_CASES[0], async () => {
    const got = await fill(gpu, { count: 100_000, seed: 42, stream: PHILOX_STREAMS.test, mode: 'u32' });
    const want = philoxU32(42, PHILOX_STREAMS.test, 100_000);
    return { mismatches: want.filter((w, i) => got[i] !== w).length };
  });
  await add(PHILOX_STREAM_CASES[1], async () => {
    const got = new Float32Array((await fill(gpu, { count: 100_000, seed: 43, stream: PHILOX_STREAMS.test, mode: 'uniform' })).buffer);
    const raw = philoxU32(43, PHILOX_STREAMS.test, 100_000);
    return { mismatches: Array.from(raw).filter((x, i) => got[i] !== u32ToUniform(x)).length };
  });
  await add(PHILOX_STREAM_CASES[2], async () => {
    const got = new Float32Array(
      (await fill(gpu, { count: 100_000, seed: 44, stream: PHILOX_STREAMS.embeddingIn, mode: 'normal' })).buffer,
    );
    const want = philoxNormals(44, PHILOX_STREAMS.embeddingIn, 100_000);
    let maxAbs = 0;
    for (let i = 0; i < want.length; i++) maxAbs = Math.max(maxAbs, Math.abs(got[i] - want[i]));
    return { mismatches: maxAbs <= NORMAL_ABS_TOLERANCE ? 0 : 1, maxAbs, ratio: maxAbs / NORMAL_ABS_TOLERANCE };
  });
  return rows;
}
