// The contract every matmul variant shares (shaders/matmul/*.wgsl, src/kernels/matmul/):
// C = alpha·op(A)·op(B) + beta·C, batched over `batch` products. op(A) is M×K, op(B) is K×N, C is
// M×N, all row-major; A stored transposed is K×M, B is N×K. Shapes, offsets and batch strides are
// uniforms (one pipeline serves every shape); a batch stride of 0 shares one operand across the
// batch. Transposes are override constants: they change the inner loop's addressing, so they are
// compiled in. beta == 0 never reads C (BLAS convention): C may hold garbage or NaN on entry.

struct MatmulParams {
  M: u32,
  N: u32,
  K: u32,
  batch: u32,
  offsetA: u32,
  offsetB: u32,
  offsetC: u32,
  batchStrideA: u32,
  batchStrideB: u32,
  batchStrideC: u32,
  alpha: f32,
  beta: f32,
}

override TRANS_A: bool = false;
override TRANS_B: bool = false;

@group(0) @binding(3) var<uniform> params: MatmulParams;

// Where A, B and C of product `batch` start, in elements.
fn operandBases(batch: u32) -> vec3<u32> {
  return vec3<u32>(params.offsetA + batch * params.batchStrideA,
                   params.offsetB + batch * params.batchStrideB,
                   params.offsetC + batch * params.batchStrideC);
}
