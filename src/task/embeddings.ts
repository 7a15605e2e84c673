/**
 * Embeddings (docs/math.md §1, `task.embedding`), host side: the constructions and their Float64 forms for
 * the CPU reference. Item-major throughout (row i = e_i), as the contract of docs/architecture.md §3 says.
 *
 * - `gaussian`: entries N(0, 1/d) from Philox normals, E on stream embeddingIn and Ẽ on
 *   embeddingOut, element k = i·d + c. The GPU generates these itself (shaders/task/embeddings.wgsl,
 *   src/task/taskGpu.ts) — N = 100,000 × d = 1024 is never uploaded; the host twin here is the
 *   Float64 version of the same formula (equal up to WGSL's log/sqrt/cos accuracy).
 * - `orthonormal`: the same Philox normals, orthonormalized on the CPU by modified Gram–Schmidt
 *   run twice ("twice is enough", Giraud et al. 2005) in Float64, then uploaded. It needs d ≥ N,
 *   so it is at most d×d — small enough to upload.
 * - `identity` and `coupled-rotation` are never materialized on the GPU (applied structurally by
 *   the softmax-gradient kernels); `denseEmbedding` builds them for the CPU reference only.
 */
import { philoxNormals, PHILOX_STREAMS } from '../cpu/philox';
import type { EmbeddingKind } from './task';

/** 3×3 rotation R(a, b, c) of docs/math.md §1 (ZYZ Euler angles), row-major. */
export function rotation3(a: number, b: number, c: number): number[] {
  const [sa, ca, sb, cb, sc, cc] = [Math.sin(a), Math.cos(a), Math.sin(b), Math.cos(b), Math.sin(c), Math.cos(c)];
  return [
    ca * cb * cc - sa * sc,
    -ca * cb * sc - sa * cc,
    ca * sb,
    sa * cb * cc + ca * sc,
    -sa * cb * sc + ca * cc,
    sa * sb,
    -sb * cc,
    sb * sc,
    cb,
  ];
}

/** [B]'s blocks: E = I_{N/3} ⊗ R_IN, Ẽ = I_{N/3} ⊗ R_OUT (docs/math.md §1). */
export const COUPLED_ROTATION_IN = rotation3(1.715, 0.876, 3.098);
export const COUPLED_ROTATION_OUT = rotation3(3.638, 2.949, 5.218);

/** Gaussian embedding table [N, d] (item-major), entries normal/√d, Float64. */
export function gaussianEmbeddingHost(seed: number, stream: number, N: number, d: number): Float64Array {
  return philoxNormals(seed, stream, N * d, 1 / Math.sqrt(d));
}

/**
 * N orthonormal rows of length d ≥ N: Philox normals (stream, seed) orthonormalized by modified
 * Gram–Schmidt twice, in Float64.
 */
export function orthonormalEmbeddingHost(seed: number, stream: number, N: number, d: number): Float64Array {
  if (d < N) throw new RangeError(`orthonormal embeddings need d ≥ N, got d = ${d}, N = ${N}`);
  const v = philoxNormals(seed, stream, N * d);
  for (let i = 0; i < N; i++) {
    const row = i * d;
    for (let pass = 0; pass < 2; pass++) {
      for (let j = 0; j < i; j++) {
        let dot = 0;
        for (let c = 0; c < d; c++) dot += v[row + c] * v[j * d + c];
        for (let c = 0; c < d; c++) v[row + c] -= dot * v[j * d + c];
      }
    }
    let norm = 0;
    for (let c = 0; c < d; c++) norm += v[row + c] ** 2;
    norm = Math.sqrt(norm);
    if (!(norm > 1e-8)) throw new Error(`orthonormal embeddings: row ${i} is degenerate (norm ${norm})`);
    for (let c = 0; c < d; c++) v[row + c] /= norm;
  }
  return v;
}

/** Block-diagonal I ⊗ B item-major: row i = column i of the matrix, i.e. row 3p+b has B[a][b] at 3p+a. */
export function blockDiagonalItemMajor(N: number, block: readonly number[]): Float64Array {
  const out = new Float64Array(N * N);
  for (let p = 0; p < N / 3; p++) {
    for (let a = 0; a < 3; a++) {
      for (let b = 0; b < 3; b++) out[(3 * p + b) * N + 3 * p + a] = block[3 * a + b];
    }
  }
  return out;
}

/**
 * Dense item-major table [N, d] of an embedding kind (Float64) — the CPU reference's view. `side`
 * picks E ('in') or Ẽ ('out').
 */
export function denseEmbedding(kind: EmbeddingKind, side: 'in' | 'out', N: number, d: number, taskSeed: number): Float64Array {
  const stream = side === 'in' ? PHILOX_STREAMS.embeddingIn : PHILOX_STREAMS.embeddingOut;
  switch (kind) {
    case 'identity': {
      const out = new Float64Array(N * N);
      for (let i = 0; i < N; i++) out[i * N + i] = 1;
      return out;
    }
    case 'coupled-rotation':
      return blockDiagonalItemMajor(N, side === 'in' ? COUPLED_ROTATION_IN : COUPLED_ROTATION_OUT);
    case 'gaussian':
      return gaussianEmbeddingHost(taskSeed, stream, N, d);
    case 'orthonormal':
      return orthonormalEmbeddingHost(taskSeed, stream, N, d);
  }
}
