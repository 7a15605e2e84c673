// A compile error in a composed shader is reported at the file and line its author wrote, whether
// it sits in the kernel file or in a library piece it imports (src/gpu/registry.ts maps the
// compiler's composed line numbers back through composeWgsl's line map). Real WebGPU compiler.
import { describe, expect, test } from 'vitest';
import { defineKernel, getPipeline } from '../src/gpu/registry';
import { SHADER_SOURCES } from '../src/gpu/shaderSources';
import { gpuOrSkip } from './gpuFixture';

// Line 6 of the kernel file assigns an f32 to a u32: a type error the compiler must reject there.
// It imports lib/update.wgsl, which itself imports two pieces, so ~60 composed lines come first.
const BROKEN_KERNEL = [
  '// A kernel with one type error, composed from the real update frame.',
  '//#import lib/update.wgsl',
  '',
  '@compute @workgroup_size(64, 1, 1)',
  'fn broken(@builtin(global_invocation_id) gid: vec3<u32>) {',
  '  let n: u32 = 1.5;',
  '  w[gid.x] = f32(n);',
  '}',
].join('\n');

// A library piece whose line 3 calls a function that does not exist.
const BROKEN_PIECE = ['// A piece with an unknown function.', '', 'fn helper() -> f32 { return no_such_function(); }'].join('\n');
const USES_BROKEN_PIECE = [
  '//#import lib/finite.wgsl',
  '//#import lib/broken_piece.wgsl',
  '@group(0) @binding(0) var<storage, read_write> out: array<f32>;',
  '@compute @workgroup_size(64, 1, 1)',
  'fn uses_piece(@builtin(global_invocation_id) gid: vec3<u32>) {',
  '  out[gid.x] = select(0.0, helper(), finite(1.0));',
  '}',
].join('\n');

describe('compile errors name the true file and line', () => {
  test('an error in the kernel file: shaders/test/broken.wgsl:6', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    const kernel = defineKernel({ shader: 'test/broken.wgsl', entryPoint: 'broken', sources: { 'test/broken.wgsl': BROKEN_KERNEL } });
    const error = await getPipeline(gpu, kernel).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toMatch(/broken: shader does not compile/);
    expect(error?.message).toMatch(/shaders\/test\/broken\.wgsl:6:\d+ /);
    // The composed line number (well past 6) must not leak through.
    expect(error?.message).not.toMatch(/wgsl:(?!6:)\d+:/);
  });

  test('an error in an imported piece: shaders/lib/broken_piece.wgsl:3', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    const sources = { 'test/uses_piece.wgsl': USES_BROKEN_PIECE, 'lib/broken_piece.wgsl': BROKEN_PIECE };
    const kernel = defineKernel({ shader: 'test/uses_piece.wgsl', entryPoint: 'uses_piece', sources });
    const error = await getPipeline(gpu, kernel).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toMatch(/shaders\/lib\/broken_piece\.wgsl:3:\d+ /);
  });

  test('the same kernel file without the error compiles (the tests above fail for their error only)', async (ctx) => {
    const gpu = await gpuOrSkip(ctx);
    if (!gpu) return;
    const fixed = BROKEN_KERNEL.replace('let n: u32 = 1.5;', 'let n: u32 = 1u;');
    const kernel = defineKernel({ shader: 'test/fixed.wgsl', entryPoint: 'broken', sources: { 'test/fixed.wgsl': fixed } });
    await expect(getPipeline(gpu, kernel)).resolves.toBeDefined();
    expect(SHADER_SOURCES['lib/update.wgsl']).toContain('fn markDivergedUnless');
  });
});
