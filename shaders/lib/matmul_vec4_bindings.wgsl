// The operands as vec4 arrays, for variants that only take aligned shapes (M, N, K, every offset and
// batch stride a multiple of 4; src/kernels/matmul/matmul.ts `isAligned` checks this before choosing
// one): shaders/matmul/matmul_vec4.wgsl and shaders/matmul/matmul_tiled_vec4.wgsl. Same binding
// numbers as lib/matmul_bindings.wgsl, so every variant has the same bind group layout.

//#import lib/matmul_params.wgsl

@group(0) @binding(0) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> c: array<vec4<f32>>;
