/**
 * The transformer's Float64 twin, config and shape rules, without a GPU (issue 12):
 *
 * - the kernel twins on hand-computed cases (RMSNorm of a known row, attention with T = 1, ReLU²,
 *   SwiGLU, the scatter-add order);
 * - a finite-difference check of the whole model's gradient (L = 2, d = 8, V = 11, T = 5, every
 *   entry of every matrix, each MLP kind): central differences with h = 1e-5 in Float64 are off by
 *   about h²·|L'''| ≈ 1e-9 (truncation) plus ε·|L|/h ≈ 5e-11 (rounding), so |fd − g| ≤ 1e-7 + 1e-6·|g|
 *   holds with margin and a wrong term in the backward pass (errors of order |g| ≈ 1e-3) fails it;
 * - the bad inputs of the issue, each an error naming its field.
 */
import { describe, expect, it } from 'vitest';
import {
  attentionForwardCpu,
  embedBackwardCpu,
  rmsnormForwardCpu,
  swigluForwardCpu,
  activationCpu,
  RMSNORM_EPS,
} from '../src/cpu/transformer';
import { backwardCpu, forwardCpu, initParamsCpu, logitsCpu, type Params } from '../src/cpu/transformerModel';
import { markovSource } from '../src/model/data';
import { parseTransformerConfig, firstDifference, type TransformerConfigInput } from '../src/model/config';
import { assignGroups } from '../src/model/groups';
import { scheduleFactor } from '../src/model/schedule';
import { mlpHidden, transformerMatrices, type MlpKind, type TransformerDims } from '../src/layout/transformerShape';

const tinyDims = (mlp: MlpKind): TransformerDims => ({ layers: 2, dModel: 8, heads: 2, vocab: 11, maxSeqLen: 6, mlp });

describe('kernel twins, by hand', () => {
  it('RMSNorm of (3, 4): r = 1/√(12.5 + ε)', () => {
    const { y, rstd } = rmsnormForwardCpu([3, 4], 1, 2);
    const r = 1 / Math.sqrt(12.5 + RMSNORM_EPS);
    expect(rstd[0]).toBeCloseTo(r, 15);
    expect(Array.from(y)).toEqual([3 * r, 4 * r]);
  });
  it('attention with T = 1 returns v and P = 1; causal rows sum to 1 with zeros above the diagonal', () => {
    const q = [1, 2, 3, 4];
    const one = attentionForwardCpu(q, [5, 6, 7, 8], [9, 10, 11, 12], { rows: 1, seqLen: 1, dModel: 4, heads: 2 });
    expect(Array.from(one.out)).toEqual([9, 10, 11, 12]);
    expect(Array.from(one.P)).toEqual([1, 1]);
    const T = 3;
    const rand = (n: number) => Array.from({ length: n }, (_, i) => Math.sin(i + 1));
    const r = attentionForwardCpu(rand(T * 4), rand(T * 4).reverse(), rand(T * 4), { rows: 1, seqLen: T, dModel: 4, heads: 1 });
    for (let i = 0; i < T; i++) {
      const row = Array.from(r.P.slice(i * T, (i + 1) * T));
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 14);
      for (let j = i + 1; j < T; j++) expect(row[j]).toBe(0);
    }
  });
  it('ReLU², SwiGLU and the hidden sizes', () => {
    expect(activationCpu('relu2', -2)).toBe(0);
    expect(activationCpu('relu2', 3)).toBe(9);
    expect(swigluForwardCpu([0], [5])[0]).toBe(0);
    expect(swigluForwardCpu([2], [3])[0]).toBeCloseTo((2 / (1 + Math.exp(-2))) * 3, 14);
    expect(mlpHidden(8, 'relu2')).toBe(32);
    expect(mlpHidden(8, 'swiglu')).toBe(24); // ⌊64/3⌋ = 21 → 24
    expect(mlpHidden(64, 'swiglu')).toBe(176);
  });
  it('the embedding scatter-add sums every position of a token', () => {
    const dE = embedBackwardCpu([1, 2, 10, 20, 100, 200], [2, 0, 2], { vocab: 3, dModel: 2 });
    expect(Array.from(dE)).toEqual([10, 20, 0, 0, 101, 202]);
  });
});

function finiteDifferenceCheck(mlp: MlpKind): { worst: number; checked: number } {
  const dims = tinyDims(mlp);
  const rows = 2;
  const T = 5;
  const params = initParamsCpu(dims, 3);
  const batch = markovSource({ kind: 'markov', vocab: 11, branching: 3, seed: 5, fixedBatch: false, shared: true }).batch(0, 0, rows, T);
  // A mask with one ignored position checks that the weights reach every gradient.
  batch.weights[3] = 0;
  const grads = backwardCpu(dims, params, batch, rows, T, forwardCpu(dims, params, batch, rows, T));
  const h = 1e-5;
  let worst = 0;
  let checked = 0;
  for (const m of transformerMatrices(dims)) {
    const w = params[m.name];
    for (let i = 0; i < w.length; i++) {
      const keep = w[i];
      w[i] = keep + h;
      const up = forwardCpu(dims, params, batch, rows, T).loss;
      w[i] = keep - h;
      const down = forwardCpu(dims, params, batch, rows, T).loss;
      w[i] = keep;
      const fd = (up - down) / (2 * h);
      const g = grads[m.name][i];
      worst = Math.max(worst, Math.abs(fd - g) / (1e-7 + 1e-6 * Math.abs(g)));
      checked++;
    }
  }
  return { worst, checked };
}

describe('finite differences of the whole model (L = 2, d = 8, V = 11, T = 5)', () => {
  for (const mlp of ['relu2', 'gelu', 'swiglu'] as const) {
    it(`${mlp}: every gradient entry within 1e-7 + 1e-6·|g| of the central difference`, () => {
      const { worst, checked } = finiteDifferenceCheck(mlp);
      console.log(`[fd ${mlp}] ${checked} entries, worst |fd − g| / (1e-7 + 1e-6|g|) = ${worst.toExponential(2)}`);
      expect(checked).toBeGreaterThan(1500);
      expect(worst).toBeLessThanOrEqual(1);
    }, 60_000);
  }
});

describe('causality of the CPU twin', () => {
  it('changing token t never changes logits at positions < t', () => {
    const dims = tinyDims('relu2');
    const params: Params = initParamsCpu(dims, 1);
    const batch = markovSource({ kind: 'markov', vocab: 11, branching: 4, seed: 2, fixedBatch: false, shared: true }).batch(0, 0, 1, 6);
    const base = logitsCpu(dims, params, batch, 1, 6);
    for (const t of [0, 3, 5]) {
      const changed = { ...batch, inputs: Uint32Array.from(batch.inputs) };
      changed.inputs[t] = (changed.inputs[t] + 1) % 11;
      const after = logitsCpu(dims, params, changed, 1, 6);
      expect(Array.from(after.slice(0, t * 11))).toEqual(Array.from(base.slice(0, t * 11)));
      expect(Array.from(after.slice(t * 11, (t + 1) * 11))).not.toEqual(Array.from(base.slice(t * 11, (t + 1) * 11)));
    }
  });
});

const baseConfig = (): TransformerConfigInput => ({
  schema: 'muonlab.transformer/1',
  name: 'tiny',
  model: { layers: 2, dModel: 8, heads: 2, vocab: 11, maxSeqLen: 8 },
  data: { kind: 'markov', vocab: 11 },
  optimizers: [
    { patterns: ['*.v', '*.o'], optimizer: { name: 'muon', lr: 0.02 } },
    { patterns: ['*'], optimizer: { name: 'adamw', lr: 1e-3 } },
  ],
  training: { steps: 5, batchSize: 2, seqLen: 8 },
});

function configError(edit: (c: TransformerConfigInput) => void): string {
  const c = baseConfig();
  edit(c);
  try {
    parseTransformerConfig(c);
  } catch (err) {
    return (err as Error).message;
  }
  return 'no error';
}

describe('config: bad input names the field', () => {
  it('accepts the base config and fills defaults', () => {
    const c = parseTransformerConfig(baseConfig());
    expect(c.model.mlp).toBe('relu2');
    expect(c.training.seeds).toEqual([0]);
    expect(c.optimizers[1].schedule).toEqual({ warmup: 0, decay: 'constant', final: 0.1 });
  });
  it('d not divisible by H', () => {
    expect(configError((c) => (c.model.heads = 3))).toMatch(
      /model\.heads: d = 8 is not divisible by heads = 3 \(allowed: a divisor of 8: 1, 2, 4, 8\)/,
    );
  });
  it('T above the configured maximum', () => {
    expect(configError((c) => (c.training.seqLen = 9))).toMatch(/training\.seqLen: T = 9 is above model\.maxSeqLen = 8/);
    expect(configError((c) => (c.model.maxSeqLen = 600))).toMatch(/model\.maxSeqLen/);
  });
  it('a pattern matching no matrix', () => {
    expect(configError((c) => (c.optimizers[0].patterns = ['*.v', '*.values']))).toMatch(
      /optimizers\.0\.patterns\.1: "\*\.values" matches no matrix/,
    );
  });
  it('a pattern whose matches all go to an earlier group', () => {
    expect(configError((c) => c.optimizers.reverse())).toMatch(/optimizers\.1\.patterns\.0: "\*\.v" claims no matrix/);
  });
  it('two groups claiming one matrix with no precedence', () => {
    const msg = configError((c) => {
      c.optimizers = [
        { patterns: ['layer.0.*'], optimizer: { name: 'muon', lr: 0.02 } },
        { patterns: ['*.q'], optimizer: { name: 'sgd', lr: 0.1 } },
        { patterns: ['*'], optimizer: { name: 'adamw', lr: 1e-3 } },
      ];
    });
    expect(msg).toMatch(
      /optimizers\.1\.patterns\.0: "\*\.q" and optimizers\.0\.patterns\.0 "layer\.0\.\*" both claim matrix "layer\.0\.q" with no precedence/,
    );
  });
  it('V below the data vocabulary', () => {
    expect(configError((c) => ((c.data as { vocab: number }).vocab = 12))).toMatch(
      /model\.vocab: V = 11 is below the data's vocabulary data\.vocab = 12/,
    );
  });
  it('an optimizer field and an unknown MLP', () => {
    expect(configError((c) => ((c.optimizers[1].optimizer as Record<string, unknown>).beta1 = 1))).toMatch(
      /optimizers\.1\.optimizer\.beta1: must be in \[0, 1\)/,
    );
    expect(configError((c) => ((c.model as Record<string, unknown>).mlp = 'relu'))).toMatch(/model\.mlp: .*allowed: relu2, gelu, swiglu/);
    expect(
      configError((c) => ((c.optimizers[0].optimizer as Record<string, unknown>).lr = { kind: 'geometric', lr: 1, growth: 2 })),
    ).toMatch(/optimizers\.0\.optimizer\.lr/);
  });
  it('the first difference between two configs', () => {
    const a = parseTransformerConfig(baseConfig());
    const b = parseTransformerConfig({ ...baseConfig(), training: { ...baseConfig().training, batchSize: 3 } });
    expect(firstDifference(a, b)).toBe('training.batchSize: 2 ≠ 3');
    expect(firstDifference(a, structuredClone(a))).toBeNull();
  });
});

describe('groups, schedules, data', () => {
  it('assigns specific patterns first and the catch-all last', () => {
    const names = transformerMatrices(tinyDims('swiglu')).map((m) => m.name);
    const g = assignGroups(names, [{ patterns: ['layer.*.{v,o}'] }, { patterns: ['*.gate'] }, { patterns: ['*'] }]);
    expect(names.filter((_, i) => g[i] === 0)).toEqual(['layer.0.v', 'layer.0.o', 'layer.1.v', 'layer.1.o']);
    expect(names.filter((_, i) => g[i] === 1)).toEqual(['layer.0.gate', 'layer.1.gate']);
  });
  it('warm-up then cosine and linear decay', () => {
    const s = { warmup: 4, decay: 'cosine' as const, final: 0.1 };
    expect(scheduleFactor(s, 2, 14)).toBe(0.5);
    expect(scheduleFactor(s, 9, 14)).toBeCloseTo(0.55, 12); // halfway: 0.1 + 0.9·0.5
    expect(scheduleFactor(s, 14, 14)).toBeCloseTo(0.1, 12);
    expect(scheduleFactor({ ...s, decay: 'linear' }, 9, 14)).toBeCloseTo(0.55, 12);
  });
  it('the Markov source is deterministic, next-token, and differs per step', () => {
    const src = markovSource({ kind: 'markov', vocab: 7, branching: 2, seed: 9, fixedBatch: false, shared: true });
    const a = src.batch(3, 0, 2, 6);
    expect(src.batch(3, 0, 2, 6)).toEqual(a);
    for (let b = 0; b < 2; b++) for (let t = 0; t < 5; t++) expect(a.inputs[b * 6 + t + 1]).toBe(a.targets[b * 6 + t]);
    expect(src.batch(4, 0, 2, 6).inputs).not.toEqual(a.inputs);
    expect(Math.max(...a.inputs, ...a.targets)).toBeLessThan(7);
  });
});

describe('shared constants and the checkpoint format', () => {
  it('ACT_* in shaders/transformer/activation.wgsl are ACTIVATION_CODES', async () => {
    const { SHADER_SOURCES } = await import('../src/gpu/shaderSources');
    const { ACTIVATION_CODES } = await import('../src/kernels/transformer/kernels');
    const src = SHADER_SOURCES['transformer/activation.wgsl'];
    for (const [kind, code] of Object.entries(ACTIVATION_CODES)) {
      const m = new RegExp(`const ACT_${kind.toUpperCase()}: u32 = (\\d+)u;`).exec(src);
      expect(m, kind).not.toBeNull();
      expect(Number(m![1])).toBe(code);
    }
    // Importing every shader source and the kernels takes seconds on a loaded machine (8 s at load 20).
  }, 60_000);
  it('round-trips a checkpoint and rejects foreign, truncated and other-config files by name', async () => {
    const { encodeCheckpoint, decodeCheckpoint, assertSameConfig } = await import('../src/model/checkpoint');
    const config = parseTransformerConfig(baseConfig());
    const tensors = new Map([
      ['slot0.w', Uint8Array.of(1, 2, 3, 4, 5, 6)],
      ['slot0.m', Uint8Array.of(9, 8, 7, 6)],
    ]);
    const bytes = encodeCheckpoint({ step: 7, config, tensors });
    const back = decodeCheckpoint(bytes);
    expect(back.header.step).toBe(7);
    expect([...back.tensors]).toEqual([...tensors]);
    expect(() => assertSameConfig(back, config)).not.toThrow();
    const other = parseTransformerConfig({ ...baseConfig(), model: { ...baseConfig().model, dModel: 16 } });
    expect(() => assertSameConfig(back, other)).toThrow(/first difference .* at model\.dModel: 8 ≠ 16/);
    expect(() => decodeCheckpoint(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12))).toThrow(/magic "MLCK" missing/);
    expect(() => decodeCheckpoint(bytes.subarray(0, bytes.length - 4))).toThrow(/slot0\.m runs past the end/);
  });
});
