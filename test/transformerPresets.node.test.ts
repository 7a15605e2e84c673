// The four transformer presets (issue 13) without a GPU:
// - every cell of every scale is a valid muonlab.transformer/1 config (patterns claim matrices,
//   the corpus fits the model's V and T, names are config names), with the sizes the plans state;
// - the prediction records are computed from measurements alone: fed measurements whose answer is
//   known by construction (tail FTA 0.6 / 0.4 / 0.2 for Muon / AdamW / SGD, a gap of 0.1·α, losses
//   with a set ordering, eRank offsets, power laws with set exponents), each record's measured value
//   and comparison are what the construction implies; reversed constructions disagree; seeds that
//   disagree widely make the verdict inconclusive; at ci every claim is inconclusive (holdsFrom quick).
import { describe, expect, it } from 'vitest';
import { parseTransformerConfig } from '../src/model/config';
import { dataVocab } from '../src/model/data';
import { aDataScalingPlan, budgetSteps, dataScalingConfig } from '../src/experiments/presets/plans/aDataScaling';
import { bHeavyTailQaPlan, heavyTailConfig } from '../src/experiments/presets/plans/bHeavyTailQa';
import { ablationConfig, bTransformerAblationPlan } from '../src/experiments/presets/plans/bTransformerAblation';
import { bTransformerIsotropyPlan, isotropyConfig } from '../src/experiments/presets/plans/bTransformerIsotropy';
import { ABLATION_ASSIGNMENTS, TRANSFORMER_SCALES, tokensPerStep } from '../src/experiments/presets/plans/transformerCommon';
import {
  ablationPredictions,
  dataScalingPredictions,
  envelope,
  heavyTailPredictions,
  isotropyPredictions,
  type AblationMeasurement,
  type DataScalingMeasurement,
  type HeavyTailMeasurement,
  type IsotropyMeasurement,
} from '../src/experiments/presets/transformerClaims';
import { reproducedParagraph } from '../src/experiments/presets/transformerReport';
import { SCALES, withVerdicts, type PredictionRecord, type Scale } from '../src/experiments/presets/types';
import { transformerMatrices } from '../src/layout/transformerShape';
import { assignGroups } from '../src/model/groups';

describe('every cell is a valid transformer config', () => {
  it('all four presets, every scale: parse, vocabulary within V, the plan’s steps and seeds', () => {
    for (const scale of SCALES) {
      const m = TRANSFORMER_SCALES[scale];
      const check = (what: string, input: unknown, steps: number, seeds: number[]) => {
        const c = parseTransformerConfig(input);
        expect(dataVocab(c.data), `${what}: vocabulary`).toBeLessThanOrEqual(c.model.vocab);
        expect([c.model.layers, c.model.dModel, c.training.seqLen], what).toEqual([m.layers, m.dModel, m.seqLen]);
        expect(c.training.steps, what).toBe(steps);
        expect(c.training.seeds, what).toEqual(seeds);
        return c;
      };
      const h = bHeavyTailQaPlan.settings[scale];
      for (const cell of bHeavyTailQaPlan.cells(scale)) {
        const c = check(`b-heavy-tail-qa ${scale} ${cell.id}`, heavyTailConfig(scale, cell), h.steps, h.seeds);
        expect(c.data.kind).toBe(cell.params.kind === 'qa' ? 'knowledge' : 'regression');
        expect((c.data as { alpha: number }).alpha).toBe(cell.params.alpha);
      }
      expect(bHeavyTailQaPlan.cells(scale)).toHaveLength(h.alphas.length * h.optimizers.length + h.controlOptimizers.length);
      const a = bTransformerAblationPlan.settings[scale];
      for (const cell of bTransformerAblationPlan.cells(scale)) {
        const c = check(`b-transformer-ablation ${scale} ${cell.id}`, ablationConfig(scale, cell), a.steps, a.seeds);
        // Which matrices Muon gets, by name: the assignment's patterns and nothing else.
        const names = transformerMatrices({ ...c.model }).map((x) => x.name);
        const groups = assignGroups(names, c.optimizers);
        const muon = names.filter((_, i) => c.optimizers[groups[i]].optimizer.name === 'muon');
        const want: Record<string, (n: string) => boolean> = {
          'all-muon': (n) => n.startsWith('layer.'),
          'all-adam': () => false,
          'muon-vo-mlp': (n) => /\.(v|o|in|gate|out)$/.test(n),
          'muon-vo-in': (n) => /\.(v|o|in|gate)$/.test(n),
          'muon-vo-out': (n) => /\.(v|o|out)$/.test(n),
          'muon-qk': (n) => /\.(q|k)$/.test(n),
          'muon-out': (n) => /\.out$/.test(n),
        };
        expect(muon, `${scale} ${cell.id}`).toEqual(names.filter(want[cell.params.assignment]));
        expect(c.model.mlp).toBe(cell.params.mlp);
      }
      expect(bTransformerAblationPlan.cells(scale)).toHaveLength(ABLATION_ASSIGNMENTS.length * 2);
      const i = bTransformerIsotropyPlan.settings[scale];
      expect(i.seeds.length).toBeGreaterThanOrEqual(4);
      for (const cell of bTransformerIsotropyPlan.cells(scale)) {
        const c = check(`b-transformer-isotropy ${scale} ${cell.id}`, isotropyConfig(scale, cell), i.steps, i.seeds);
        expect(c.metrics.isotropy).toEqual(['*.v', '*.o', '*.out']);
      }
      const d = aDataScalingPlan.settings[scale];
      for (const cell of aDataScalingPlan.cells(scale)) {
        const steps = budgetSteps(scale, cell.params.budgetLog2);
        expect(steps * tokensPerStep(scale), `${scale} ${cell.id}: tokens = 2^k`).toBe(2 ** cell.params.budgetLog2);
        check(`a-data-scaling ${scale} ${cell.id}`, dataScalingConfig(scale, cell), steps, d.seeds);
      }
    }
  });
});

// The verdicts as a report gives them: verdictOf with the presets' claimsHoldFrom ('quick').
const judged = (ps: readonly PredictionRecord[], scale: Scale) => withVerdicts(ps, scale, 'quick').filter((p) => !p.reported);
const verdicts = (ps: readonly PredictionRecord[], scale: Scale) => judged(ps, scale).map((p) => p.verdict);

/** Per-individual counts (out of 2 attributes) giving exactly `head` on the head and `tail` on the tail of P = 128. */
function counts(head: number, tail: number, rest = 0.5): number[] {
  // head: ranks 0–12 (13), tail: 64–127 (64); 2 attributes, so a share k/26 or k/128 is exact in halves.
  return Array.from({ length: 128 }, (_, i) => {
    const share = i < 13 ? head : i >= 64 ? tail : rest;
    return share * 2;
  });
}

function heavyTail(
  tails: Record<string, number>,
  gapPerAlpha: number,
  seedNoise: number[],
  control = { muon: 0.3, adamw: 0.3 },
): HeavyTailMeasurement[] {
  const out: HeavyTailMeasurement[] = [];
  const s = bHeavyTailQaPlan.settings.quick;
  for (const alpha of s.alphas) {
    for (const optimizer of s.optimizers) {
      s.seeds.forEach((seed, k) => {
        const tail = tails[optimizer] + (optimizer === 'muon' ? gapPerAlpha * alpha : 0) + seedNoise[k];
        out.push({
          kind: 'qa',
          optimizer,
          alpha,
          seed,
          correct: counts(1, tail),
          outOf: 2,
          exposures: [],
          validationSteps: [],
          validationLoss: [],
          head: 1,
          tail,
          all: 0,
        });
      });
    }
  }
  for (const optimizer of s.controlOptimizers) {
    s.seeds.forEach((seed, k) =>
      out.push({
        kind: 'control',
        optimizer,
        alpha: 1,
        seed,
        correct: counts(0.3, control[optimizer as 'muon' | 'adamw'] + seedNoise[k]),
        outOf: 2,
        exposures: [],
        validationSteps: [],
        validationLoss: [],
        head: 0,
        tail: 0,
        all: 0,
      }),
    );
  }
  return out;
}

describe('b-heavy-tail-qa records from measurements', () => {
  it('a clear Muon > AdamW > SGD tail with a gap growing with α agrees; reversed disagrees; ci is inconclusive', () => {
    const ms = heavyTail({ muon: 0.5, adamw: 0.3, sgd: 0.1 }, 0.1, [0, 0.01, -0.01]);
    const p = heavyTailPredictions('quick', ms);
    const byName = (re: RegExp) => p.find((x) => re.test(x.name))!;
    // Muon's tail at α = 1 is 0.5 + 0.1 = 0.6, AdamW's 0.3: the paired difference is 0.3 on every seed.
    expect(byName(/tail FTA Muon > AdamW \(α = 1\)/).measured).toBeCloseTo(0.3, 12);
    expect(byName(/tail FTA Muon > AdamW \(α = 1.5\)/).measured).toBeCloseTo(0.35, 12);
    expect(byName(/tail FTA AdamW > SGD\+momentum \(α = 1\)/).measured).toBeCloseTo(0.2, 12);
    expect(p.filter((x) => /head FTA/.test(x.name)).map((x) => x.measured)).toEqual([1, 1, 1]);
    // The mean FTA over 128 individuals: the tail is half of them, so the gap in "all" is half the tail gap's slope.
    expect(byName(/grows with α/).measured).toBeCloseTo(0.1 * (64 / 128), 12);
    // head × 3 optimizers; Muon > AdamW and AdamW > SGD at α = 1 and 1.5; the slope; the control.
    expect(verdicts(p, 'quick')).toEqual(new Array(9).fill('agrees'));
    expect(verdicts(p, 'ci').every((v) => v === 'inconclusive')).toBe(true);

    const reversed = heavyTailPredictions(
      'quick',
      heavyTail({ muon: 0.1, adamw: 0.3, sgd: 0.5 }, -0.05, [0, 0.01, -0.01], { muon: 0.5, adamw: 0.3 }),
    );
    // The head is still perfect; every ordering is reversed; the control shows a Muon advantage of 0.2.
    expect(verdicts(reversed, 'quick')).toEqual([
      'agrees',
      'agrees',
      'agrees',
      'disagrees',
      'disagrees',
      'disagrees',
      'disagrees',
      'disagrees',
      'disagrees',
    ]);
  });

  it('seeds that disagree by more than the band: inconclusive, not agrees', () => {
    // Noise shared by every optimizer cancels in paired differences: put it on Muon alone.
    const ms = heavyTail({ muon: 0.5, adamw: 0.45, sgd: 0.4 }, 0, [0, 0, 0]).map((m) =>
      m.kind === 'qa' && m.optimizer === 'muon' ? { ...m, correct: counts(1, 0.5 + [0, 0.3, -0.3][m.seed - 1]) } : m,
    );
    const noisy = heavyTailPredictions('quick', ms);
    const tail = noisy.find((x) => /tail FTA Muon > AdamW \(α = 1\)/.test(x.name))!;
    expect(tail.measured).toBeCloseTo(0.05, 12);
    expect(judged([tail], 'quick')[0].verdict).toBe('inconclusive');
  });
});

describe('b-transformer-ablation records from measurements', () => {
  function ablation(loss: Record<string, number>, jitter = [0, 0.002, -0.002]): AblationMeasurement[] {
    return ['relu2', 'swiglu'].flatMap((mlp) =>
      ABLATION_ASSIGNMENTS.flatMap((a) =>
        [1, 2, 3].map(
          (seed, k) =>
            ({
              mlp,
              assignment: a.id,
              label: a.label,
              seed,
              validationSteps: [],
              validationLoss: [],
              finalLoss: loss[a.id] + jitter[k],
              maxLogit: 5,
              correct: [],
              attributes: 2,
              tail: 0,
              head: 0,
            }) as AblationMeasurement,
        ),
      ),
    );
  }
  // [B]'s 160M losses.
  const paper = {
    'all-muon': 3.565,
    'all-adam': 3.924,
    'muon-vo-mlp': 3.586,
    'muon-vo-in': 3.678,
    'muon-vo-out': 3.605,
    'muon-qk': 3.893,
    'muon-out': 3.702,
  };

  it("[B]'s own losses agree with every prediction; the Muon(Q,K) fraction is (3.893 − 3.565)/(3.924 − 3.565)", () => {
    const p = ablationPredictions('quick', ablation(paper));
    expect(p.find((x) => /Muon\(Q,K\) only closer.*plain/.test(x.name))!.measured).toBeCloseTo((3.893 - 3.565) / (3.924 - 3.565), 3);
    expect(p.find((x) => /Muon\(V,O,MLP\)\/Adam\(Q,K\) < all-Adam \(plain/.test(x.name))!.measured).toBeCloseTo(3.586 - 3.924, 12);
    // all-Muon 0.021 below Muon(V,O,MLP): agrees ("≤").
    expect(verdicts(p, 'quick')).toEqual(new Array(8).fill('agrees'));
  });

  it('all-Adam best and W_in ahead of W_out: those rows disagree', () => {
    const p = ablationPredictions('quick', ablation({ ...paper, 'all-adam': 3.5, 'muon-vo-in': 3.6, 'muon-vo-out': 3.7, 'all-muon': 3.7 }));
    const v = Object.fromEntries(judged(p, 'quick').map((x) => [x.name, x.verdict]));
    expect(v['Muon(V,O,MLP)/Adam(Q,K) < all-Adam (plain MLP)']).toBe('disagrees');
    expect(v['Muon(V,O + W_out) < Muon(V,O + W_in) (gated MLP)']).toBe('disagrees');
    expect(v['all-Muon ≤ Muon(V,O,MLP)/Adam(Q,K) (plain MLP)']).toBe('disagrees');
  });
});

describe('b-transformer-isotropy records from measurements', () => {
  function iso(muonOffset: number, muonSpread: number, adamSpread: number): IsotropyMeasurement[] {
    const out: IsotropyMeasurement[] = [];
    for (const optimizer of ['muon', 'adamw'] as const)
      for (const seed of [1, 2, 3, 4])
        for (const step of [0, 5, 10])
          for (const kind of ['v', 'o', 'out'])
            for (const layer of [0, 1]) {
              const spread = (optimizer === 'muon' ? muonSpread : adamSpread) * (seed - 2.5);
              const eRank = step === 0 ? 20 : 20 + (optimizer === 'muon' ? muonOffset : 0) + spread;
              out.push({
                optimizer,
                seed,
                step,
                matrix: `layer.${layer}.${kind}`,
                kind,
                eRank,
                top10E: 0.5 - eRank / 100,
                hNorm: null,
                updateERank: 10,
                updateTop10E: 0.5,
              });
            }
    return out;
  }
  it('Muon 2 eRank higher with a quarter of the spread agrees on all three claims per matrix; lower disagrees', () => {
    const p = isotropyPredictions('quick', iso(2, 0.05, 0.2));
    const checked = p.filter((x) => !x.reported);
    expect(checked).toHaveLength(9);
    expect(checked.find((x) => /W_V: Muon's eRank higher/.test(x.name))!.measured).toBeCloseTo(2, 12);
    expect(checked.find((x) => /W_O: Muon's Top10E lower/.test(x.name))!.measured).toBeCloseTo(-0.02, 12);
    expect(checked.find((x) => /W_out: Muon's eRank varies less/.test(x.name))!.measured).toBeCloseTo(0.25, 12);
    expect(verdicts(checked, 'quick')).toEqual(new Array(9).fill('agrees'));
    const lower = isotropyPredictions('quick', iso(-2, 0.2, 0.05)).filter((x) => !x.reported);
    expect(verdicts(lower, 'quick')).toEqual(new Array(9).fill('disagrees'));
  });
});

describe('a-data-scaling records from measurements', () => {
  it('the envelope keeps the best η; power laws with exponents −0.2 and −0.1 give a slope difference of −0.1', () => {
    const ms: DataScalingMeasurement[] = [];
    for (const optimizer of ['muon', 'adamw'] as const)
      for (const budgetLog2 of [15, 16, 17, 18])
        for (const lrFactor of [1 / 3, 1, 3])
          for (const seed of [1, 2, 3]) {
            const tokens = 2 ** budgetLog2;
            const beta = optimizer === 'muon' ? 0.2 : 0.1;
            // Best at η × 1: the other factors add 0.1; seeds add ±0.001 (paired, so they cancel).
            const loss = 10 * tokens ** -beta * (optimizer === 'muon' ? 0.9 : 1) + (lrFactor === 1 ? 0 : 0.1) + (seed - 2) * 0.001;
            ms.push({ optimizer, budgetLog2, tokens, steps: 1, lrFactor, lr: lrFactor, seed, validationLoss: loss });
          }
    const e = envelope(ms, 'muon');
    expect(e.map((x) => x.lrFactor)).toEqual([1, 1, 1, 1]);
    const p = dataScalingPredictions('quick', ms);
    expect(p[1].measured).toBeCloseTo(-0.1, 10);
    expect(verdicts(p, 'quick')).toEqual(['agrees', 'agrees']);
    expect(verdicts(p, 'ci')).toEqual(['inconclusive', 'inconclusive']);
  });
});

describe("the report's plain-words paragraph", () => {
  it("names the preset's own paper: [A] for a-data-scaling, [B] for the other three", () => {
    const p: PredictionRecord[] = [
      { name: 'claim one', formula: 'x', predicted: '< 0', measured: -1, ci: [-1.01, -0.99], tolerance: '±0.02', agrees: true },
    ];
    expect(reproducedParagraph(p, 'quick', 'quick', aDataScalingPlan.paper)).toMatch(
      /^\*\*What this run \(quick\) reproduced of \[A\]\.\*\* Reproduced: claim one\./,
    );
    for (const plan of [bHeavyTailQaPlan, bTransformerAblationPlan, bTransformerIsotropyPlan])
      expect(reproducedParagraph(p, 'quick', 'quick', plan.paper)).toContain('reproduced of [B].');
    // Below the scale the claims hold from, nothing counts as reproduced.
    expect(reproducedParagraph(p, 'ci', 'quick', aDataScalingPlan.paper)).toContain('Reproduced: none.');
  });
});

describe('the preset modules load in Node', () => {
  // `muonlab report DIR` (harness/report.ts) imports every preset, GPU code included, in Node where
  // no WebGPU globals exist: nothing may touch GPUBufferUsage & co. at module scope (trainer.ts did).
  it('imports the four transformer presets without WebGPU globals', async () => {
    expect(typeof (globalThis as { GPUBufferUsage?: unknown }).GPUBufferUsage).toBe('undefined');
    const { presetByName } = await import('../src/experiments/presets');
    for (const name of ['b-heavy-tail-qa', 'b-transformer-ablation', 'b-transformer-isotropy', 'a-data-scaling'])
      expect(presetByName(name)?.name, name).toBe(name);
  }, 60_000);
});
