/**
 * Float64 reference for the row gather (src/kernels/gather/): `out[b, r, :] = src[b, index[b, r, 0], :]`,
 * with the shape rules of src/layout/gatherShape.ts, which the kernel shares.
 *
 * An index outside `[0, src.rows)` gives a NaN row on both sides — a bad index shows up in the
 * result instead of silently reading another item's embedding.
 */
import type { HostTensor } from './hostTensor';
import { gatherShape, type GatherOperands } from '../layout/gatherShape';

export { gatherShape, type GatherOperands, type GatherShape } from '../layout/gatherShape';

/**
 * Writes `out[b, r, :] = src[b, index[b, r, 0], :]`, NaN where the index is not a row of src.
 * Index values are read as the GPU reads them, as u32: ToUint32 (`>>> 0`) is exactly what storing
 * a number in a Uint32Array — uploading it to a u32 tensor — does, so −1 is 4294967295 (out of range).
 *
 * @example
 * const out = hostTensor({ batch: 4, rows: 32, cols: 64 });
 * gatherRowsCpu({ src: table, index: draws, out }); // table is 1×N×64, draws 4×32×1 (u32)
 */
export function gatherRowsCpu(args: GatherOperands<HostTensor>): void {
  const s = gatherShape(args);
  const { src, index, out } = args;
  for (let b = 0; b < s.batch; b++) {
    const srcBase = src.offset + b * s.batchStrideSrc;
    const indexBase = index.offset + b * s.batchStrideIndex;
    const outBase = out.offset + b * s.batchStrideOut;
    for (let r = 0; r < s.rows; r++) {
      const item = index.data[indexBase + r] >>> 0;
      for (let j = 0; j < s.cols; j++) {
        out.data[outBase + r * s.cols + j] = item < s.srcRows ? src.data[srcBase + item * s.cols + j] : NaN;
      }
    }
  }
}
