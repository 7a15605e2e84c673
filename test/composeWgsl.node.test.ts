// WGSL composition (src/gpu/composeWgsl.ts) and the source table (src/gpu/shaderSources.ts): imports
// inline once, in place, with a line map back to the author's file and line; broken imports are
// errors naming the file and line; the table is exactly the files on disk; constants shared with
// TypeScript agree; every kernel entry point belongs to a family or a named support module.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, test } from 'vitest';
import { WgslReflect } from 'wgsl_reflect';
import { FLAG_DECOUPLED, FLAG_EMA, FLAG_NESTEROV } from '../src/cpu/optim';
import { composeWgsl, locateLine, wgslConstants } from '../src/gpu/composeWgsl';
import { SHADER_SOURCES } from '../src/gpu/shaderSources';
import { KERNEL_FAMILIES } from '../src/kernels/index';
import { SOFTMAX_OUTPUT_COLUMNS } from '../src/kernels/softmaxGrad/softmaxGrad';

const ROOT = join(__dirname, '..');

function compose(files: Record<string, string>, path: string) {
  return composeWgsl(path, (p) => files[p]);
}

describe('composeWgsl', () => {
  const files = {
    'lib/a.wgsl': 'const A: u32 = 1u;\nfn a() -> u32 { return A; }',
    'lib/b.wgsl': '//#import lib/a.wgsl\nfn b() -> u32 { return a() + 1u; }',
    'main.wgsl': '// main\n//#import lib/b.wgsl\n//#import lib/a.wgsl\nfn main_fn() -> u32 { return b(); }',
  };

  test('inlines imports depth-first in place of the directive, each file once', () => {
    const c = compose(files, 'main.wgsl');
    expect(c.code.split('\n')).toEqual([
      '// main',
      'const A: u32 = 1u;',
      'fn a() -> u32 { return A; }',
      'fn b() -> u32 { return a() + 1u; }',
      'fn main_fn() -> u32 { return b(); }',
    ]);
    expect(c.files).toEqual(['lib/a.wgsl', 'lib/b.wgsl', 'main.wgsl']);
  });

  test('the line map names the file and line each composed line came from', () => {
    const c = compose(files, 'main.wgsl');
    expect(c.lines).toHaveLength(c.code.split('\n').length);
    expect(locateLine(c.lines, 1)).toBe('shaders/main.wgsl:1');
    expect(locateLine(c.lines, 2)).toBe('shaders/lib/a.wgsl:1');
    expect(locateLine(c.lines, 4)).toBe('shaders/lib/b.wgsl:2');
    expect(locateLine(c.lines, 5)).toBe('shaders/main.wgsl:4');
    expect(locateLine(c.lines, 99)).toBe('(composed line 99)');
  });

  test('a missing import names the importing file and line', () => {
    expect(() => compose({ 'x.wgsl': 'fn f() {}\n//#import lib/nope.wgsl' }, 'x.wgsl')).toThrow(
      'shaders/x.wgsl:2: imports shaders/lib/nope.wgsl, which does not exist',
    );
  });

  test('an import cycle is an error naming the chain', () => {
    const cyclic = { 'p.wgsl': '//#import q.wgsl', 'q.wgsl': '//#import p.wgsl' };
    expect(() => compose(cyclic, 'p.wgsl')).toThrow(/import cycle p\.wgsl → q\.wgsl → p\.wgsl/);
  });

  test('a missing shader is an error', () => {
    expect(() => compose({}, 'gone.wgsl')).toThrow('shaders/gone.wgsl not found');
  });
});

describe('the shader source table', () => {
  const onDisk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? onDisk(join(dir, e.name)) : e.name.endsWith('.wgsl') ? [join(dir, e.name)] : [],
    );

  test('lists exactly the .wgsl files under shaders/, with their contents', () => {
    const shadersDir = join(ROOT, 'shaders');
    const files = onDisk(shadersDir)
      .map((f) => relative(shadersDir, f).split('\\').join('/'))
      .sort();
    expect(Object.keys(SHADER_SOURCES).sort()).toEqual(files);
    for (const f of files) expect(SHADER_SOURCES[f], f).toBe(readFileSync(join(shadersDir, f), 'utf8'));
  });

  test('library pieces declare no entry points and every kernel file composes', () => {
    for (const [path, source] of Object.entries(SHADER_SOURCES)) {
      if (path.startsWith('lib/')) expect(new WgslReflect(source).entry.compute, path).toHaveLength(0);
      else expect(() => composeWgsl(path, (p) => SHADER_SOURCES[p]), path).not.toThrow();
    }
  });

  test('no library piece is inlined twice by hand (a kernel file declares none of the shared names)', () => {
    const shared = [
      'struct RunParams',
      'struct UpdateShape',
      'struct MatmulParams',
      'fn finite(',
      'fn workgroupSum(',
      'fn linear_invocation(',
      'fn philox4x32(',
    ];
    for (const [path, source] of Object.entries(SHADER_SOURCES)) {
      if (path.startsWith('lib/')) continue;
      for (const name of shared) expect(source.includes(name), `${path} declares ${name}`).toBe(false);
    }
  });
});

describe('constants shared by WGSL and TypeScript agree', () => {
  test('RunParams.flags bits', () => {
    const c = wgslConstants(SHADER_SOURCES['lib/run_params.wgsl']);
    expect({ nesterov: c.RUN_FLAG_NESTEROV, ema: c.RUN_FLAG_EMA_MOMENTUM, decoupled: c.RUN_FLAG_DECOUPLED_DECAY }).toEqual({
      nesterov: FLAG_NESTEROV,
      ema: FLAG_EMA,
      decoupled: FLAG_DECOUPLED,
    });
    // Distinct single bits: a flag word can carry any combination.
    const bits = [FLAG_NESTEROV, FLAG_EMA, FLAG_DECOUPLED];
    for (const b of bits) expect(b & (b - 1)).toBe(0);
    expect(new Set(bits).size).toBe(bits.length);
  });

  test('no shader tests a flag by a literal bit any more', () => {
    for (const [path, source] of Object.entries(SHADER_SOURCES)) {
      expect(/flags\s*&\s*\d+u/.test(source), path).toBe(false);
    }
  });

  test('softmax output columns: OUT_* in WGSL are the TypeScript column order', () => {
    const c = wgslConstants(SHADER_SOURCES['lib/softmax_state.wgsl']);
    const wgslOrder = Object.entries(c)
      .filter(([k]) => k.startsWith('OUT_') && k !== 'OUT_STRIDE')
      .sort((a, b) => a[1] - b[1])
      .map(([k]) => k.slice(4).toLowerCase());
    expect(wgslOrder).toEqual(SOFTMAX_OUTPUT_COLUMNS.map((n) => n.toLowerCase()));
    expect(c.OUT_STRIDE).toBe(SOFTMAX_OUTPUT_COLUMNS.length);
  });

  test('wgslConstants reads typed and untyped declarations', () => {
    expect(wgslConstants('const A: u32 = 4u;\nconst B = 2.5;\n  const C: i32 = -3i;\nlet x = 1;')).toEqual({ A: 4, B: 2.5, C: -3 });
  });
});

describe('kernel families', () => {
  // Kernels outside any family: the task's generators (src/task/taskGpu.ts) and the scheduler's
  // bookkeeping (src/train/, src/gpu/runParams.ts), tested by their own browser suites.
  const SUPPORT = new Set(['task/embeddings.wgsl', 'task/sampling.wgsl', 'train/advance_runs.wgsl', 'train/freeze_nonfinite.wgsl']);

  test('every entry point of a family shader belongs to exactly one family', () => {
    const owner = new Map<string, string>();
    for (const f of KERNEL_FAMILIES) {
      for (const k of f.kernels) {
        const key = `${k.shader}:${k.entryPoint}`;
        expect(owner.get(key), `${key} claimed by ${owner.get(key)} and ${f.name}`).toBeUndefined();
        owner.set(key, f.name);
      }
    }
    for (const path of Object.keys(SHADER_SOURCES)) {
      if (path.startsWith('lib/') || SUPPORT.has(path)) continue;
      const code = composeWgsl(path, (p) => SHADER_SOURCES[p]).code;
      for (const e of new WgslReflect(code).entry.compute)
        expect(owner.has(`${path}:${e.name}`), `${path}:${e.name} has no family`).toBe(true);
    }
  });

  test('each family names its check cases, bench shapes and tolerance rule', () => {
    for (const f of KERNEL_FAMILIES) {
      expect(f.checkCases('quick').length, f.name).toBeGreaterThan(0);
      expect(f.benchShapes.length, f.name).toBeGreaterThan(0);
      expect(f.tolerance.length, f.name).toBeGreaterThan(10);
      expect(new Set(f.checkCases('full')).size, `${f.name}: case ids are unique`).toBe(f.checkCases('full').length);
    }
  });
});
