// The knowledge corpus and the in-context regression control (issue 13) without a GPU.
//
// Properties checked from the token stream itself (not from the corpus's own bookkeeping):
// - determinism: the same config gives the same batches whatever the call order; another seed or
//   another replica (unshared) gives others;
// - every row is whole statements (biography templates or QA pairs as written in the config, words
//   mapped to their tokens) and PAD; every fact (individual, attribute) shows the same value token
//   wherever it appears; names are distinct pairs;
// - frequencies: over 200 steps the share of statements naming individual i follows (i + 1)^−α / Σ,
//   computed here; the QA share follows qaFraction (binomial bounds);
// - the exposure counts equal a count of name bigrams in the batches' tokens, incrementally and
//   from scratch;
// - targets are the next tokens with weight 1 except the last used position of a row and PAD;
// - QA probes cover every (individual, attribute) once, with the value token as the target;
// - regression: the target at x_k is the bin of y_k = w·x_k/√dx recovered from the read-in vectors.
// Bad input: each field named, before any GPU work (the trainer is created with a GPU object that
// fails on any use).
import { describe, expect, it } from 'vitest';
import { globals } from 'webgpu';
import { parseTransformerConfig, type TransformerConfigInput } from '../src/model/config';
import { createTokenSource } from '../src/model/data';
import { KnowledgeCorpus, PAD, type KnowledgeSourceConfig } from '../src/model/knowledge';
import { regressionBin, RegressionCorpus, REGRESSION_X, type RegressionSourceConfig } from '../src/model/regression';
import { bucketBounds, ftaBuckets, ftaByExposure } from '../src/metrics/fta';
import { pairedDifference, seedSummary } from '../src/metrics/seedStats';

const base = (over: Partial<KnowledgeSourceConfig> = {}): KnowledgeSourceConfig => ({
  kind: 'knowledge',
  individuals: 40,
  attributes: [
    { name: 'birth_city', values: 6 },
    { name: 'employer', values: 5 },
  ],
  templates: [
    '{first} {last} was born in {birth_city} .',
    '{first} {last} works for {employer} .',
    '{first} {last} : {employer} , {birth_city}',
  ],
  qaTemplate: 'Q {attribute} {first} {last} A {value}',
  qaFraction: 0.5,
  alpha: 1,
  seed: 11,
  shared: false,
  ...over,
});

const config = (data: unknown, model: Partial<TransformerConfigInput['model']> = {}): TransformerConfigInput => ({
  schema: 'muonlab.transformer/1',
  name: 'k',
  model: { layers: 1, dModel: 8, heads: 2, vocab: 64, maxSeqLen: 32, ...model },
  data: data as TransformerConfigInput['data'],
  optimizers: [{ patterns: ['*'], optimizer: { name: 'adamw', lr: 1e-3 } }],
  training: { steps: 2, batchSize: 2, seqLen: 32 },
});

function configError(
  data: unknown,
  model: Partial<TransformerConfigInput['model']> = {},
  training: Partial<TransformerConfigInput['training']> = {},
): string {
  const c = config(data, model);
  c.training = { ...c.training, ...training };
  try {
    parseTransformerConfig(c);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('the config was accepted');
}

/** Parses a row back into statements using only the vocabulary's token names and the templates' words. */
function statementsOfRow(
  corpus: KnowledgeCorpus,
  row: Uint32Array,
  templates: string[],
  qa: string,
): { first: string; last: string; facts: [string, string][]; qa: boolean }[] {
  const v = corpus.vocabulary;
  const names = Array.from(row, (t) => v.tokenName(t));
  const out: { first: string; last: string; facts: [string, string][]; qa: boolean }[] = [];
  let at = 0;
  while (at < names.length && names[at] !== '<pad>') {
    const match = [...templates.map((t) => ({ t, qa: false })), { t: qa, qa: true }].find(({ t }) => {
      const words = t.split(' ');
      return words.every((w, k) => {
        const n = names[at + k];
        if (n === undefined) return false;
        if (w === '{first}') return n.startsWith('first');
        if (w === '{last}') return n.startsWith('last');
        if (w === '{attribute}') return /^<\w+>$/.test(n);
        if (w === '{value}') return n.includes('=');
        if (w.startsWith('{')) return n.startsWith(`${w.slice(1, -1)}=`);
        return n === w;
      });
    });
    if (!match) throw new Error(`no statement form at position ${at}: ${names.slice(at, at + 8).join(' ')}`);
    const words = match.t.split(' ');
    const tok = (w: string) => names[at + words.indexOf(w)];
    const facts: [string, string][] = [];
    if (match.qa) {
      const attribute = tok('{attribute}').slice(1, -1);
      const value = tok('{value}');
      expect(value.startsWith(`${attribute}=`), `QA about ${attribute} answers ${value}`).toBe(true);
      facts.push([attribute, value]);
    } else {
      for (const w of words) if (w.startsWith('{') && w !== '{first}' && w !== '{last}') facts.push([w.slice(1, -1), tok(w)]);
    }
    out.push({ first: tok('{first}'), last: tok('{last}'), facts, qa: match.qa });
    at += words.length;
  }
  for (let k = at; k < names.length; k++) expect(names[k], 'only PAD after the last statement').toBe('<pad>');
  return out;
}

describe('knowledge corpus', () => {
  it('is a pure function of the config: call order does not matter; seeds and unshared replicas differ', () => {
    const a = new KnowledgeCorpus(base());
    const b = new KnowledgeCorpus(base());
    const late = b.trainingBatch(7, 1, 4, 32);
    expect(a.trainingBatch(0, 0, 4, 32).inputs).toEqual(b.trainingBatch(0, 0, 4, 32).inputs);
    expect(a.trainingBatch(7, 1, 4, 32).inputs).toEqual(late.inputs);
    expect(a.trainingBatch(7, 1, 4, 32).inputs).not.toEqual(a.trainingBatch(7, 0, 4, 32).inputs);
    expect(new KnowledgeCorpus(base({ seed: 12 })).trainingBatch(0, 0, 4, 32).inputs).not.toEqual(a.trainingBatch(0, 0, 4, 32).inputs);
    const shared = new KnowledgeCorpus(base({ shared: true }));
    expect(shared.trainingBatch(3, 0, 4, 32).inputs).toEqual(shared.trainingBatch(3, 2, 4, 32).inputs);
    // The source the trainer reads is the same function.
    const source = createTokenSource(parseTransformerConfig(config(base())).data, { dModel: 8 });
    expect(source.batch(5, 1, 4, 32).inputs).toEqual(a.trainingBatch(5, 1, 4, 32).inputs);
  });

  it('rows are whole statements in the configured forms; each fact has one value everywhere; names are distinct pairs', () => {
    const c = base();
    const corpus = new KnowledgeCorpus(c);
    const seen = new Map<string, string>();
    const pairs = new Set<string>();
    let statements = 0;
    for (let step = 0; step < 30; step++) {
      const batch = corpus.trainingBatch(step, 0, 4, 32);
      for (let r = 0; r < 4; r++) {
        for (const s of statementsOfRow(corpus, batch.inputs.subarray(r * 32, (r + 1) * 32), c.templates, c.qaTemplate)) {
          statements++;
          pairs.add(`${s.first} ${s.last}`);
          for (const [attribute, value] of s.facts) {
            const key = `${s.first} ${s.last} ${attribute}`;
            expect(seen.get(key) ?? value, key).toBe(value);
            seen.set(key, value);
          }
        }
      }
    }
    expect(statements).toBeGreaterThan(30 * 4 * 3);
    // 40 individuals: the stream names distinct pairs, never more than P of them.
    expect(pairs.size).toBeLessThanOrEqual(40);
    const names = new Set(Array.from({ length: 40 }, (_, i) => `${corpus.firstName[i]},${corpus.lastName[i]}`));
    expect(names.size).toBe(40);
  });

  it('individuals appear with frequency ∝ (i + 1)^−α and QA pairs with qaFraction (binomial bounds)', () => {
    for (const alpha of [0, 1, 1.5]) {
      const corpus = new KnowledgeCorpus(base({ alpha, individuals: 20 }));
      const counts = new Array<number>(20).fill(0);
      let total = 0;
      let qa = 0;
      for (let step = 0; step < 200; step++) {
        for (const s of corpus.trainingBatch(step, 0, 8, 32).statements) {
          counts[s.individual]++;
          total++;
          if (s.qaAttribute >= 0) qa++;
        }
      }
      const weights = Array.from({ length: 20 }, (_, i) => (i + 1) ** -alpha);
      const z = weights.reduce((a, b) => a + b, 0);
      for (let i = 0; i < 20; i++) {
        const p = weights[i] / z;
        // 5 binomial standard deviations: a test that fails on a wrong exponent, not on noise.
        const sd = Math.sqrt(total * p * (1 - p));
        expect(
          Math.abs(counts[i] - total * p),
          `α = ${alpha}, individual ${i}: ${counts[i]} of ${total}, expected ${(total * p).toFixed(1)}`,
        ).toBeLessThanOrEqual(5 * sd + 1);
      }
      expect(Math.abs(qa - total / 2)).toBeLessThanOrEqual(5 * Math.sqrt(total / 4));
    }
    const allQa = new KnowledgeCorpus(base({ qaFraction: 1 }));
    expect(allQa.trainingBatch(0, 0, 8, 32).statements.every((s) => s.qaAttribute >= 0)).toBe(true);
    const noQa = new KnowledgeCorpus(base({ qaFraction: 0 }));
    expect(noQa.trainingBatch(0, 0, 8, 32).statements.every((s) => s.qaAttribute < 0)).toBe(true);
  });

  it('exposure counts equal the name bigrams counted in the training tokens, incrementally and from scratch', () => {
    const corpus = new KnowledgeCorpus(base());
    const v = corpus.vocabulary;
    const byName = new Map<string, number>();
    for (let i = 0; i < 40; i++) byName.set(`${v.firstBase + corpus.firstName[i]},${v.lastBase + corpus.lastName[i]}`, i);
    const counted = new Array<number>(40).fill(0);
    for (let step = 0; step < 25; step++) {
      const { inputs } = corpus.trainingBatch(step, 1, 4, 32);
      for (let n = 0; n + 1 < inputs.length; n++) {
        if ((n + 1) % 32 === 0) continue;
        const i = byName.get(`${inputs[n]},${inputs[n + 1]}`);
        if (i !== undefined) counted[i]++;
      }
    }
    expect(Array.from(corpus.exposures(1, 10, 4, 32).individual).reduce((a, b) => a + b, 0)).toBeLessThan(
      counted.reduce((a, b) => a + b, 0),
    );
    expect(Array.from(corpus.exposures(1, 25, 4, 32).individual)).toEqual(counted);
    expect(Array.from(new KnowledgeCorpus(base()).exposures(1, 25, 4, 32).individual)).toEqual(counted);
    // Facts: a biography template stating two attributes exposes both.
    const f = corpus.exposures(1, 25, 4, 32).fact;
    expect(f.reduce((a, b) => a + b, 0)).toBeGreaterThan(counted.reduce((a, b) => a + b, 0));
  });

  it('targets are the next tokens; PAD and each row’s last used position carry weight 0', () => {
    const corpus = new KnowledgeCorpus(base());
    const { inputs, targets, weights } = corpus.trainingBatch(3, 0, 4, 32);
    for (let r = 0; r < 4; r++) {
      const row = Array.from(inputs.subarray(r * 32, (r + 1) * 32));
      const used = row.indexOf(PAD) < 0 ? 32 : row.indexOf(PAD);
      expect(used).toBeGreaterThan(20);
      for (let t = 0; t < 32; t++) {
        const w = weights[r * 32 + t];
        if (t + 1 < used) {
          expect(w).toBe(1);
          expect(targets[r * 32 + t]).toBe(row[t + 1]);
        } else expect(w, `row ${r} t ${t}`).toBe(0);
      }
    }
  });

  it('validation batches are other statement orders of the same facts', () => {
    const corpus = new KnowledgeCorpus(base());
    const training = new Set<string>();
    for (let step = 0; step < 50; step++) {
      const { inputs } = corpus.trainingBatch(step, 0, 4, 32);
      for (let r = 0; r < 4; r++) training.add(inputs.subarray(r * 32, (r + 1) * 32).join(','));
    }
    const validation = corpus.validationBatch(0, 4, 32);
    for (let r = 0; r < 4; r++) expect(training.has(validation.inputs.subarray(r * 32, (r + 1) * 32).join(','))).toBe(false);
    expect(corpus.validationBatch(0, 4, 32).inputs).toEqual(validation.inputs);
  });

  it('QA probes: every (individual, attribute) once, its value token the target at the probe position', () => {
    const c = base();
    const corpus = new KnowledgeCorpus(c);
    const { batches, probes } = corpus.qaProbes(4, 32);
    expect(probes).toHaveLength(40 * 2);
    expect(new Set(probes.map((p) => `${p.individual}:${p.attribute}`)).size).toBe(80);
    const v = corpus.vocabulary;
    for (const p of probes) {
      const b = batches[p.batch];
      const n = p.row * 32 + p.position;
      expect(b.weights[n]).toBe(1);
      expect(v.tokenName(b.inputs[n])).toBe('A');
      expect(v.tokenName(b.targets[n])).toMatch(new RegExp(`^${c.attributes[p.attribute].name}=`));
      expect(b.targets[n]).toBe(corpus.valueToken(p.individual, p.attribute));
      expect(b.inputs[n - 2]).toBe(v.firstBase + corpus.firstName[p.individual]);
    }
  });
});

describe('in-context regression control', () => {
  const rc: RegressionSourceConfig = { kind: 'regression', tasks: 10, inputDim: 3, bins: 6, alpha: 1, seed: 5, shared: false };

  it('targets at x positions are the bins of y = w·x/√dx recovered from the read-in; y positions carry that bin as input', () => {
    const d = 8;
    const corpus = new RegressionCorpus(rc, d);
    const b = corpus.trainingBatch(2, 0, 3, 9);
    expect(b.readIn!.length).toBe(3 * 9 * d);
    for (let r = 0; r < 3; r++) {
      for (let k = 0; k < 4; k++) {
        const tx = r * 9 + 2 * k;
        // y from the y position's read-in: column dx of R times y (the largest entry, for accuracy).
        let best = 0;
        for (let i = 1; i < d; i++) if (Math.abs(corpus.readIn[i * 4 + 3]) > Math.abs(corpus.readIn[best * 4 + 3])) best = i;
        const y = b.readIn![(tx + 1) * d + best] / corpus.readIn[best * 4 + 3];
        const bin = Math.min(5, Math.max(0, Math.floor(((y + 2) / 4) * 6)));
        expect(b.inputs[tx]).toBe(REGRESSION_X);
        expect(b.targets[tx], `row ${r} pair ${k}: y = ${y}`).toBe(2 + bin);
        expect(b.inputs[tx + 1]).toBe(2 + bin);
        expect(b.weights[tx]).toBe(1);
        expect(b.weights[tx + 1]).toBe(0);
      }
      expect(b.weights[r * 9 + 8]).toBe(0);
    }
    expect(regressionBin(-5, 6)).toBe(0);
    expect(regressionBin(5, 6)).toBe(5);
    expect(regressionBin(0, 6)).toBe(3);
  });

  it('is deterministic, draws tasks ∝ (j + 1)^−α and counts them exactly', () => {
    const a = new RegressionCorpus(rc, 8);
    expect(a.trainingBatch(4, 1, 4, 8).readIn).toEqual(new RegressionCorpus(rc, 8).trainingBatch(4, 1, 4, 8).readIn);
    const counts = new Array<number>(10).fill(0);
    for (let t = 0; t < 300; t++) for (const j of a.trainingBatch(t, 0, 8, 4).task) counts[j]++;
    expect(Array.from(a.exposures(0, 300, 8, 4))).toEqual(counts);
    const z = Array.from({ length: 10 }, (_, j) => 1 / (j + 1)).reduce((x, y) => x + y, 0);
    for (let j = 0; j < 10; j++)
      expect(Math.abs(counts[j] - 2400 / (j + 1) / z)).toBeLessThanOrEqual(5 * Math.sqrt(2400 / (j + 1) / z) + 1);
  });
});

describe('bad input names the field before any GPU work', () => {
  const cases: [string, unknown, RegExp, Partial<TransformerConfigInput['model']>?][] = [
    ['α < 0', { ...base(), alpha: -0.5 }, /data\.alpha: α must be ≥ 0/],
    ['P < 2', { ...base(), individuals: 1 }, /data\.individuals: P must be at least 2/],
    [
      'a template naming an unknown attribute',
      { ...base(), templates: ['{first} {last} was born in {birth_city} .', '{first} {last} earns {salary} .'] },
      /data\.templates\.1: names attribute "\{salary\}", which is not in data\.attributes/,
    ],
    ['a QA fraction below 0', { ...base(), qaFraction: -0.1 }, /data\.qaFraction: the share of QA statements must be in \[0, 1\]/],
    ['a QA fraction above 1', { ...base(), qaFraction: 1.5 }, /data\.qaFraction: the share of QA statements must be in \[0, 1\]/],
    ['a vocabulary above the model’s V', base(), /model\.vocab: V = 20 is below the knowledge source's vocabulary \d+/, { vocab: 20 }],
    [
      'a QA template without {value}',
      { ...base(), qaTemplate: 'Q {attribute} {first} {last} A' },
      /data\.qaTemplate: needs \{attribute\} and \{value\} once each/,
    ],
    ['the regression control with α < 0', { kind: 'regression', tasks: 4, alpha: -1 }, /data\.alpha: α must be ≥ 0/],
    ['the regression control with K < 2', { kind: 'regression', tasks: 1 }, /data\.tasks: K must be at least 2/],
  ];
  for (const [what, data, message, model] of cases) {
    it(what, () => {
      expect(configError(data, model)).toMatch(message);
    });
  }

  it('a sequence shorter than the longest statement', () => {
    expect(configError(base(), {}, { seqLen: 5 })).toMatch(
      /training\.seqLen: T = 5 is shorter than the corpus's longest statement \(7 tokens\)/,
    );
  });

  it('the trainer refuses before touching the GPU', async () => {
    // The trainer module reads GPUBufferUsage at load: Dawn's constants, no device.
    Object.assign(globalThis, globals);
    const { TransformerTrainer } = await import('../src/model/trainer');
    const touched: string[] = [];
    const gpu = new Proxy({}, { get: (_, prop) => (touched.push(String(prop)), () => undefined) });
    await expect(TransformerTrainer.create(gpu as never, config({ ...base(), alpha: -1 }))).rejects.toThrow(/data\.alpha/);
    expect(touched).toEqual([]);
    // Importing the trainer transforms the GPU modules and their shaders: slow on a loaded machine.
  }, 60_000);
});

describe('FTA buckets and seed statistics', () => {
  it('buckets by rank: head ⌈10 %⌉, tail ⌊50 %⌋, deciles', () => {
    expect(bucketBounds(256)).toEqual({ headEnd: 26, tailStart: 128 });
    expect(bucketBounds(2)).toEqual({ headEnd: 1, tailStart: 1 });
    const per = Array.from({ length: 20 }, (_, i) => (i < 2 ? 1 : i < 10 ? 0.5 : 0));
    const b = ftaBuckets(per);
    expect(b.head).toBe(1);
    expect(b.tail).toBe(0);
    expect(b.all).toBeCloseTo((2 + 4) / 20, 12);
    expect(b.deciles).toEqual([1, 0.5, 0.5, 0.5, 0.5, 0, 0, 0, 0, 0]);
    expect(ftaByExposure([1, 0.5, 0, 1], [40, 5, 0, 33])).toEqual([
      { from: 0, to: 1, individuals: 1, fta: 0 },
      { from: 4, to: 8, individuals: 1, fta: 0.5 },
      { from: 32, to: 64, individuals: 2, fta: 1 },
    ]);
  });

  it('t intervals over seeds (t_{0.975, 2} = 4.3027)', () => {
    const s = seedSummary([1, 2, 3]);
    expect(s.mean).toBe(2);
    expect(s.sd).toBeCloseTo(1, 12);
    expect(s.ci[0]).toBeCloseTo(2 - (4.302652729911275 * 1) / Math.sqrt(3), 6);
    expect(s.ci[1]).toBeCloseTo(2 + (4.302652729911275 * 1) / Math.sqrt(3), 6);
    const d = pairedDifference([0.5, 0.7, 0.6], [0.4, 0.5, 0.5]);
    expect(d.mean).toBeCloseTo(0.4 / 3, 12);
    expect(Number.isNaN(seedSummary([1]).ci[0])).toBe(true);
  });
});
