/** Float64 twin of src/kernels/reduce/reduce.ts: Σ x² (or Σ (x − y)²) per matrix of a batch. */
import { hostIndex, type HostTensor } from './hostTensor';

export function sumSquaresCpu(x: HostTensor, y?: HostTensor): Float64Array {
  const out = new Float64Array(x.batch);
  for (let b = 0; b < x.batch; b++) {
    let s = 0;
    for (let i = 0; i < x.rows; i++) {
      for (let j = 0; j < x.cols; j++) {
        const v = x.data[hostIndex(x, b, i, j)] - (y ? y.data[hostIndex(y, b, i, j)] : 0);
        s += v * v;
      }
    }
    out[b] = s;
  }
  return out;
}
