// The operands as scalar f32 arrays: any shape, offset and stride (the vec4 variant declares its own).

//#import lib/matmul_params.wgsl

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
