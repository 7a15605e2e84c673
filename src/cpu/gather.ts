/** Float64 reference for the row gather (src/kernels/gather.ts): out[b, r, :] = src[b, index[b, r, 0], :]. */
import { hostIndex, type HostTensor } from './hostTensor';

export function gatherRowsCpu(args: { src: HostTensor; index: HostTensor; out: HostTensor }): void {
  const { src, index, out } = args;
  for (let b = 0; b < out.batch; b++) {
    for (let r = 0; r < out.rows; r++) {
      const item = index.data[hostIndex(index, b, r, 0)];
      for (let j = 0; j < out.cols; j++) {
        out.data[hostIndex(out, b, r, j)] = item < src.rows ? src.data[hostIndex(src, b, item, j)] : NaN;
      }
    }
  }
}
