// Storing results: C[m, n] = alpha·product + beta·C[m, n], skipped outside the matrix, C read only
// when beta != 0. storeBlock takes a 4×4 block whose column i is row m+i of C, with constant
// indices only (a dynamic acc[i] would copy the matrix to memory first).

//#import lib/matmul_bindings.wgsl

fn storeElement(base: u32, m: u32, n: u32, product: f32) {
  if (m >= params.M || n >= params.N) {
    return;
  }
  let i = base + m * params.N + n;
  var v = params.alpha * product;
  if (params.beta != 0.0) {
    v = v + params.beta * c[i];
  }
  c[i] = v;
}

fn storeRow(base: u32, m: u32, n: u32, v: vec4<f32>) {
  storeElement(base, m, n, v.x);
  storeElement(base, m, n + 1u, v.y);
  storeElement(base, m, n + 2u, v.z);
  storeElement(base, m, n + 3u, v.w);
}

fn storeBlock(base: u32, m: u32, n: u32, acc: mat4x4<f32>) {
  storeRow(base, m, n, acc[0]);
  storeRow(base, m + 1u, n, acc[1]);
  storeRow(base, m + 2u, n, acc[2]);
  storeRow(base, m + 3u, n, acc[3]);
}
