// Shader reflection (src/gpu/reflect.ts), without a device: every shader in shaders/ parses and each
// compute entry point reflects to explicit group-0 bindings; the matmul and gather bindings are what
// their kernels bind by name; checkKernelArgs rejects bad calls with a message naming the binding;
// packUniforms writes each field where WGSL's layout rules put it.
//
// Expected offsets and sizes are worked out from the WGSL spec's layout rules, not from reflection:
// a struct of n scalar u32/i32/f32 members has member i at byte 4·i and size 4·n (align 4, size 4
// each); a runtime-sized `array<T>` binding needs at least one element (4 bytes for f32/u32, 16 for
// vec4<f32>). Usage bits are the WebGPU spec's: GPUBufferUsage.UNIFORM = 0x40, STORAGE = 0x80,
// COPY_DST = 0x8; GPUShaderStage.COMPUTE = 0x4.
import { describe, expect, test } from 'vitest';
import { WgslReflect } from 'wgsl_reflect';
import { composeWgsl } from '../src/gpu/composeWgsl';
import { SHADER_SOURCES } from '../src/gpu/shaderSources';
import {
  bindGroupLayoutEntries,
  BUFFER_USAGE,
  checkKernelArgs,
  packUniforms,
  reflectKernel,
  type BufferArg,
  type KernelInfo,
} from '../src/gpu/reflect';

const UNIFORM = 0x40;
const STORAGE = 0x80;
const COPY_DST = 0x8;
const COMPUTE_STAGE = 0x4;

// Every shader file as the GPU sees it: composed from its `//#import` lines (src/gpu/composeWgsl.ts).
const shaderFile = (path: string): string => composeWgsl(path, (p) => SHADER_SOURCES[p]).code;
const kernelFiles = Object.keys(SHADER_SOURCES).filter((p) => !p.startsWith('lib/'));

describe('every shader reflects', () => {
  test('the source table holds the kernel files', () => {
    // matmul, gather and the optimizers at least: an empty table would make the loop below vacuous.
    expect(kernelFiles.length).toBeGreaterThanOrEqual(10);
  });

  for (const file of kernelFiles) {
    const source = shaderFile(file);
    const entries = new WgslReflect(source).entry.compute.map((e) => e.name);

    test(`${file} declares at least one @compute entry point`, () => {
      expect(entries.length).toBeGreaterThan(0);
    });

    for (const entry of entries) {
      test(`${file} ${entry}: group-0 bindings, a uniform struct, three workgroup dimensions`, () => {
        const info = reflectKernel(source, entry);
        expect(info.entryPoint).toBe(entry);
        expect(info.bindings.length).toBeGreaterThan(0);
        for (const b of info.bindings) {
          expect(b.group, `${b.name} group`).toBe(0);
          expect(b.minBytes, `${b.name} minBytes`).toBeGreaterThan(0);
        }
        // Binding numbers are unique (a duplicate would make one of them unreachable by name).
        expect(new Set(info.bindings.map((b) => b.binding)).size).toBe(info.bindings.length);
        const uniforms = info.bindings.filter((b) => b.kind === 'uniform');
        expect(uniforms.length, 'one uniform struct for shapes').toBeGreaterThanOrEqual(1);
        for (const u of uniforms) {
          expect(u.fields?.length, `${u.name} fields`).toBeGreaterThan(0);
          expect(u.structBytes).toBe(u.minBytes);
        }
        expect(info.workgroupSize).toHaveLength(3);
        const [x, y, z] = info.workgroupSize!;
        // 256 invocations is WebGPU's default maxComputeInvocationsPerWorkgroup (and SwiftShader's).
        expect(x * y * z).toBeLessThanOrEqual(256);
        expect(Math.min(x, y, z)).toBeGreaterThanOrEqual(1);
      });
    }
  }
});

// The uniform struct the matmul shaders share: 10 u32 then alpha, beta as f32 (4 bytes each, in order).
const MATMUL_PARAMS = [
  'M',
  'N',
  'K',
  'batch',
  'offsetA',
  'offsetB',
  'offsetC',
  'batchStrideA',
  'batchStrideB',
  'batchStrideC',
  'alpha',
  'beta',
];

const MATMUL_ENTRIES = [
  { file: 'matmul/matmul.wgsl', entry: 'matmul_register_blocked', element: 4, workgroup: [8, 8, 1] },
  { file: 'matmul/matmul.wgsl', entry: 'matmul_workgroup_tiled', element: 4, workgroup: [16, 16, 1] },
  { file: 'matmul/matmul_vec4.wgsl', entry: 'matmul_register_blocked_vec4', element: 16, workgroup: [8, 8, 1] },
] as const;

describe('matmul entry points', () => {
  for (const m of MATMUL_ENTRIES) {
    test(`${m.entry} binds a, b (read-only), c (written), params (uniform)`, () => {
      const info = reflectKernel(shaderFile(m.file), m.entry);
      expect(info.bindings.map((b) => [b.name, b.binding, b.kind, b.minBytes])).toEqual([
        ['a', 0, 'read-only-storage', m.element],
        ['b', 1, 'read-only-storage', m.element],
        ['c', 2, 'storage', m.element],
        ['params', 3, 'uniform', 4 * MATMUL_PARAMS.length],
      ]);
      const params = info.bindings[3];
      expect(params.fields).toEqual(
        MATMUL_PARAMS.map((name, i) => ({ name, offset: 4 * i, type: name === 'alpha' || name === 'beta' ? 'f32' : 'u32' })),
      );
      expect([...info.overrides].sort()).toEqual(['TRANS_A', 'TRANS_B']);
      expect(info.workgroupSize).toEqual(m.workgroup);
    });

    test(`${m.entry} bindGroupLayoutEntries match the bindings`, () => {
      const info = reflectKernel(shaderFile(m.file), m.entry);
      expect(bindGroupLayoutEntries(info)).toEqual([
        { binding: 0, visibility: COMPUTE_STAGE, buffer: { type: 'read-only-storage', minBindingSize: m.element } },
        { binding: 1, visibility: COMPUTE_STAGE, buffer: { type: 'read-only-storage', minBindingSize: m.element } },
        { binding: 2, visibility: COMPUTE_STAGE, buffer: { type: 'storage', minBindingSize: m.element } },
        { binding: 3, visibility: COMPUTE_STAGE, buffer: { type: 'uniform', minBindingSize: 48 } },
      ]);
    });
  }
});

describe('gather entry point', () => {
  test('gather_rows binds src, index (read-only), out (written), params (10 u32)', () => {
    const info = reflectKernel(shaderFile('gather/gather.wgsl'), 'gather_rows');
    expect(info.bindings.map((b) => [b.name, b.binding, b.kind, b.minBytes])).toEqual([
      ['src', 0, 'read-only-storage', 4],
      ['index', 1, 'read-only-storage', 4],
      ['out', 2, 'storage', 4],
      ['params', 3, 'uniform', 40],
    ]);
    expect(info.bindings[3].fields!.every((f, i) => f.type === 'u32' && f.offset === 4 * i)).toBe(true);
  });
});

describe('reflectKernel rejects what the runtime cannot bind', () => {
  test('an unknown entry point lists the ones that exist', () => {
    expect(() => reflectKernel(shaderFile('matmul/matmul.wgsl'), 'matmul_naive')).toThrow(
      /entry point "matmul_naive" not found; compute entry points: .*matmul_register_blocked.*matmul_workgroup_tiled/,
    );
  });

  test('a binding outside group 0', () => {
    const src = `@group(1) @binding(0) var<storage, read_write> x: array<f32>;
      @compute @workgroup_size(1, 1, 1) fn k() { x[0] = 1.0; }`;
    expect(() => reflectKernel(src, 'k')).toThrow(/k: muonlab kernels use bind group 0 only/);
  });

  test('a uniform field that is not a scalar', () => {
    const src = `struct P { n: u32, scale: vec2<f32> }
      @group(0) @binding(0) var<storage, read_write> x: array<f32>;
      @group(0) @binding(1) var<uniform> p: P;
      @compute @workgroup_size(1, 1, 1) fn k() { x[0] = p.scale.x; }`;
    expect(() => reflectKernel(src, 'k')).toThrow(/uniform p\.scale: only u32\/i32\/f32 fields are supported/);
  });

  test('a fixed-size array binding needs its whole size', () => {
    const src = `@group(0) @binding(0) var<storage, read_write> x: array<f32, 6>;
      @compute @workgroup_size(1, 1, 1) fn k() { x[0] = 1.0; }`;
    expect(reflectKernel(src, 'k').bindings[0].minBytes).toBe(24);
  });
});

// ---------------------------------------------------------------------------------------------
// checkKernelArgs, with fake buffers ({size, usage, label} is all it reads).

const matmulInfo = (): KernelInfo => reflectKernel(shaderFile('matmul/matmul.wgsl'), 'matmul_register_blocked');
const fake = (label: string, size: number, usage: number): BufferArg['buffer'] => ({ label, size, usage });

/** A correct call: three 64-byte storage buffers and a 48-byte uniform. */
function goodArgs(): Record<string, BufferArg> {
  return {
    a: { buffer: fake('A', 64, STORAGE | COPY_DST) },
    b: { buffer: fake('B', 64, STORAGE) },
    c: { buffer: fake('C', 64, STORAGE) },
    params: { buffer: fake('P', 48, UNIFORM | COPY_DST) },
  };
}

describe('checkKernelArgs', () => {
  test('BUFFER_USAGE has the WebGPU spec values', () => {
    expect(BUFFER_USAGE).toEqual({ UNIFORM, STORAGE });
  });

  test('accepts a correct call', () => {
    expect(() => checkKernelArgs(matmulInfo(), goodArgs())).not.toThrow();
  });

  test('accepts read-only aliasing (a and b the same buffer)', () => {
    const args = goodArgs();
    args.b = { buffer: args.a.buffer };
    expect(() => checkKernelArgs(matmulInfo(), args)).not.toThrow();
  });

  test('accepts disjoint ranges of one buffer for a written and a read binding', () => {
    const shared = fake('AC', 128, STORAGE);
    const args = { ...goodArgs(), a: { buffer: shared, offset: 0, size: 64 }, c: { buffer: shared, offset: 64, size: 64 } };
    expect(() => checkKernelArgs(matmulInfo(), args)).not.toThrow();
  });

  const rejections: { name: string; change: (args: Record<string, BufferArg>) => void; message: RegExp }[] = [
    {
      name: 'missing binding',
      change: (args) => delete args.b,
      message: /matmul_register_blocked: binding "b" \(@binding\(1\), read-only-storage\) was not given a buffer/,
    },
    {
      name: 'unknown name',
      change: (args) => (args.d = { buffer: fake('D', 64, STORAGE) }),
      message: /got buffer for "d", which the shader does not bind; it binds a, b, c, params/,
    },
    {
      name: 'storage binding without STORAGE usage',
      change: (args) => (args.c = { buffer: fake('C', 64, COPY_DST) }),
      message: /binding "c" .*buffer "C" lacks STORAGE usage/,
    },
    {
      name: 'uniform binding without UNIFORM usage',
      change: (args) => (args.params = { buffer: fake('P', 48, STORAGE) }),
      message: /binding "params" .*buffer "P" lacks UNIFORM usage/,
    },
    {
      name: 'too-small uniform buffer',
      change: (args) => (args.params = { buffer: fake('P', 32, UNIFORM) }),
      message: /binding "params" .*needs at least 48 bytes, buffer "P" gives 32/,
    },
    {
      name: 'too-small storage range',
      change: (args) => (args.a = { buffer: fake('A', 64, STORAGE), offset: 62 }),
      message: /binding "a" .*needs at least 4 bytes, buffer "A" gives 2/,
    },
    {
      name: 'range past the end of the buffer',
      change: (args) => (args.b = { buffer: fake('B', 64, STORAGE), offset: 32, size: 64 }),
      message: /binding "b" .*range \[32, 96\) is past the end of buffer "B" \(64 bytes\)/,
    },
    {
      name: 'writable aliasing (c is a)',
      change: (args) => (args.c = { buffer: args.a.buffer }),
      message: /buffer "A" is bound to "c" \(written\) and to "a"/,
    },
    {
      name: 'writable aliasing of overlapping ranges',
      change: (args) => {
        const shared = fake('AC', 128, STORAGE);
        args.a = { buffer: shared, offset: 0, size: 68 };
        args.c = { buffer: shared, offset: 64, size: 64 };
      },
      message: /buffer "AC" is bound to "c" \(written\) and to "a"/,
    },
  ];
  for (const r of rejections) {
    test(`rejects ${r.name}, naming the binding`, () => {
      const args = goodArgs();
      r.change(args);
      expect(() => checkKernelArgs(matmulInfo(), args)).toThrow(r.message);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// packUniforms

describe('packUniforms', () => {
  test('matmul params: each field at 4·i, u32 and f32 little-endian, size a multiple of 16', () => {
    const values: Record<string, number> = {};
    MATMUL_PARAMS.forEach((name, i) => (values[name] = 100 + i));
    values.alpha = 0.75;
    values.beta = -1.5;
    values.batchStrideC = 0xffffffff; // the largest u32 round-trips
    const data = packUniforms(matmulInfo(), 'params', values);
    expect(data.byteLength).toBe(48);
    const view = new DataView(data);
    for (let i = 0; i < 9; i++) expect(view.getUint32(4 * i, true), MATMUL_PARAMS[i]).toBe(100 + i);
    expect(view.getUint32(36, true)).toBe(0xffffffff);
    expect(view.getFloat32(40, true)).toBe(0.75);
    expect(view.getFloat32(44, true)).toBe(-1.5);
  });

  test('gather params (40 bytes) round up to 48, the tail zeroed', () => {
    const info = reflectKernel(shaderFile('gather/gather.wgsl'), 'gather_rows');
    const names = [
      'rows',
      'cols',
      'srcRows',
      'batch',
      'offsetSrc',
      'batchStrideSrc',
      'offsetIndex',
      'batchStrideIndex',
      'offsetOut',
      'batchStrideOut',
    ];
    const data = packUniforms(info, 'params', Object.fromEntries(names.map((n, i) => [n, i + 1])));
    expect(data.byteLength).toBe(48);
    expect([...new Uint32Array(data)]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0, 0]);
  });

  test('i32 fields take negative values; offsets follow the struct', () => {
    const src = `struct P { shift: i32, scale: f32, count: u32 }
      @group(0) @binding(0) var<storage, read_write> x: array<f32>;
      @group(0) @binding(1) var<uniform> p: P;
      @compute @workgroup_size(1, 1, 1) fn k() { x[0] = p.scale * f32(p.shift) * f32(p.count); }`;
    const data = packUniforms(reflectKernel(src, 'k'), 'p', { shift: -7, scale: 2.5, count: 3 });
    const view = new DataView(data);
    expect(data.byteLength).toBe(16);
    expect(view.getInt32(0, true)).toBe(-7);
    expect(view.getFloat32(4, true)).toBe(2.5);
    expect(view.getUint32(8, true)).toBe(3);
  });

  const fullParams = (): Record<string, number> => Object.fromEntries(MATMUL_PARAMS.map((n) => [n, 1]));
  const rejections: { name: string; values: () => Record<string, number>; binding?: string; message: RegExp }[] = [
    {
      name: 'missing field',
      values: () => {
        const v = fullParams();
        delete v.beta;
        return v;
      },
      message: /uniform field params\.beta was not given/,
    },
    { name: 'unknown field', values: () => ({ ...fullParams(), gamma: 1 }), message: /uniform params has no field "gamma"/ },
    { name: 'non-integer u32', values: () => ({ ...fullParams(), K: 1.5 }), message: /params\.K = 1\.5 is not a u32/ },
    { name: 'negative u32', values: () => ({ ...fullParams(), offsetA: -1 }), message: /params\.offsetA = -1 is not a u32/ },
    { name: 'u32 above 2^32 − 1', values: () => ({ ...fullParams(), M: 2 ** 32 }), message: /params\.M = 4294967296 is not a u32/ },
    { name: 'not a uniform binding', values: fullParams, binding: 'a', message: /"a" is not a uniform struct binding/ },
  ];
  for (const r of rejections) {
    test(`rejects ${r.name}`, () => {
      expect(() => packUniforms(matmulInfo(), r.binding ?? 'params', r.values())).toThrow(r.message);
    });
  }
});
