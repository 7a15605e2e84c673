// Operand access of the barrier-free register-blocked variants (shaders/matmul/matmul_blocked*.wgsl).
// Addressing: op(A)[m, k] = a[rowPartA(m) + k·kStrideA], op(B)[k, n] = b[colPartB(n) + k·kStrideB],
// with rows and columns clamped into the matrix once, outside the k-loop (an out-of-range row
// re-reads the last valid one; only the stores are bounds-checked).

//#import lib/matmul_bindings.wgsl

fn kStrideA() -> u32 {
  return select(1u, params.M, TRANS_A);
}

fn kStrideB() -> u32 {
  return select(params.N, 1u, TRANS_B);
}

// The parts of four consecutive A rows m..m+3 (clamped into the matrix) that do not depend on k.
fn rowPartsA(base: u32, m: u32) -> vec4<u32> {
  let rows = min(vec4<u32>(m, m + 1u, m + 2u, m + 3u), vec4<u32>(params.M - 1u));
  return base + rows * select(params.K, 1u, TRANS_A);
}

// The same for four consecutive B columns n..n+3.
fn colPartsB(base: u32, n: u32) -> vec4<u32> {
  let cols = min(vec4<u32>(n, n + 1u, n + 2u, n + 3u), vec4<u32>(params.N - 1u));
  return base + cols * select(1u, params.K, TRANS_B);
}

// One k of four A rows: vec4(op(A)[m+i, k]) for i = 0..3.
fn columnA(rows: vec4<u32>, k: u32) -> vec4<f32> {
  let o = k * kStrideA();
  return vec4<f32>(a[rows.x + o], a[rows.y + o], a[rows.z + o], a[rows.w + o]);
}

// One k of four B columns: vec4(op(B)[k, n+j]) for j = 0..3.
fn rowB(cols: vec4<u32>, k: u32) -> vec4<f32> {
  let o = k * kStrideB();
  return vec4<f32>(b[cols.x + o], b[cols.y + o], b[cols.z + o], b[cols.w + o]);
}

// acc += a ⊗ b for one k: row i += a[i] · b, one rounding per multiply-add (fma).
fn rank1(acc: mat4x4<f32>, av: vec4<f32>, bv: vec4<f32>) -> mat4x4<f32> {
  return mat4x4<f32>(fma(vec4(av.x), bv, acc[0]), fma(vec4(av.y), bv, acc[1]), fma(vec4(av.z), bv, acc[2]), fma(vec4(av.w), bv, acc[3]));
}
