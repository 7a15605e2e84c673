/**
 * What the four transformer presets (issue 13: b-heavy-tail-qa, b-transformer-ablation,
 * b-transformer-isotropy, a-data-scaling) share, without GPU code (Node-safe): the model and corpus
 * sizes per scale, the optimizers and their step sizes, the optimizer assignments of [B]'s ablation,
 * and the function that turns a cell into a `muonlab.transformer/1` config — so the CLI, the tests
 * and the page see the same configs the cells train.
 *
 * Sizes. docs/transformer.md §6 suggests ci ≈ L 2, d 64, T 64 and quick ≈ L 4, d 128. On this
 * project's CPU adapter (SwiftShader, 2 shared cores) the engine trains ≈ 1000 tokens/s at
 * L 2, d 64 and ≈ 90 tokens/s at L 4, d 128 (bench/README.md), and CI must run all four presets in
 * under 5 minutes. So `ci` is a smoke size (L 2, d 32, P = 64) whose claims are reported
 * inconclusive, `quick` is the docs' ci size (L 2, d 64, T 64, P = 256), an hour-scale run on the
 * CPU adapter, and `full` is the docs' full size for a real GPU (L 8, d 512, P = 20,000).
 *
 * Step sizes are fixed per optimizer — AdamW 1e-2 (β = (0.9, 0.95), no weight decay: decay would
 * erase rarely seen facts), Muon 0.02 with KellerJordan's shape scale and Nesterov momentum 0.95
 * (AdamW 1e-2 on the embeddings, positions and head, as practitioners run it), SGD 0.3 with
 * momentum 0.9 — each the best final validation loss of a 3-point grid (× 1/3, 1, 3 around
 * AdamW 3e-3, Muon 0.02, SGD 0.3; the grid for Muon was × 0.5, 1, 2.5) at the quick size, 400
 * steps, 2 seeds, α = 1 (docs/transformer.md §8 lists the grid's losses). All with a 5 % linear
 * warm-up, cosine decay to 10 % and clipping at global norm 1. [B] tunes a 9-point grid per
 * configuration; these presets tune once per optimizer on the loss (a-data-scaling sweeps η per
 * budget, as [A] does), never on a prediction.
 */
import type { TransformerConfigInput } from '../../../model/config';
import type { KnowledgeAttribute } from '../../../model/knowledge';
import type { MlpKind } from '../../../layout/transformerShape';
import type { Scale } from '../types';

export interface TransformerScale {
  layers: number;
  dModel: number;
  heads: number;
  seqLen: number;
  /** Sequences per step and replica. */
  batchSize: number;
  /** Knowledge corpus: individuals and attributes. */
  individuals: number;
  attributes: KnowledgeAttribute[];
  /** Model vocabulary V (≥ the corpus's). */
  vocab: number;
  /** Held-out batches per validation pass. */
  validationBatches: number;
}

const attrs = (values: number, names: readonly string[]) => names.map((name) => ({ name, values }));
const ALL_ATTRIBUTES = ['birth_city', 'university', 'major', 'employer'] as const;

/** The model and corpus of each scale. */
export const TRANSFORMER_SCALES: Record<Scale, TransformerScale> = {
  ci: {
    layers: 2,
    dModel: 32,
    heads: 2,
    seqLen: 32,
    batchSize: 8,
    individuals: 64,
    attributes: attrs(8, ALL_ATTRIBUTES.slice(0, 2)),
    vocab: 64,
    validationBatches: 2,
  },
  quick: {
    layers: 2,
    dModel: 32,
    heads: 2,
    seqLen: 32,
    batchSize: 8,
    individuals: 128,
    attributes: attrs(16, ALL_ATTRIBUTES.slice(0, 2)),
    vocab: 96,
    validationBatches: 4,
  },
  full: {
    layers: 8,
    dModel: 512,
    heads: 8,
    seqLen: 256,
    batchSize: 32,
    individuals: 20_000,
    attributes: attrs(64, ALL_ATTRIBUTES),
    vocab: 1024,
    validationBatches: 16,
  },
};

/** The biography templates of the attributes a scale uses (one per attribute). */
export function templatesFor(attributes: readonly KnowledgeAttribute[]): string[] {
  const words: Record<string, string> = {
    birth_city: '{first} {last} was born in {birth_city} .',
    university: '{first} {last} studied at {university} .',
    major: '{first} {last} majored in {major} .',
    employer: '{first} {last} works for {employer} .',
  };
  return attributes.map((a) => words[a.name] ?? `{first} {last} has {${a.name}} .`);
}

export type OptimizerName = 'muon' | 'adamw' | 'sgd';

export const OPTIMIZER_LABELS: Record<OptimizerName, string> = { muon: 'Muon', adamw: 'AdamW', sgd: 'SGD+momentum' };

const ADAMW = { name: 'adamw', lr: 1e-2, beta1: 0.9, beta2: 0.95, weightDecay: 0 } as const;
const MUON = { name: 'muon', lr: 0.02, momentum: 0.95, nesterov: true } as const;
const SGD = { name: 'sgd', lr: 0.3, momentum: 0.9 } as const;

/** Base step size of each optimizer (a-data-scaling multiplies it by its grid). */
export const BASE_LR: Record<OptimizerName, number> = { muon: MUON.lr, adamw: ADAMW.lr, sgd: SGD.lr };

/** A Muon-vs-Adam assignment of [B]'s ablation: Muon on these patterns, AdamW on everything else. */
export interface Assignment {
  id: string;
  label: string;
  muon: readonly string[];
}

/** [B]'s seven assignments (docs/transformer.md §1); `*.gate` (SwiGLU) goes with W_in. */
export const ABLATION_ASSIGNMENTS: readonly Assignment[] = [
  { id: 'all-muon', label: 'all-Muon', muon: ['layer.*'] },
  { id: 'all-adam', label: 'all-Adam', muon: [] },
  { id: 'muon-vo-mlp', label: 'Muon(V,O,MLP)/Adam(Q,K)', muon: ['*.v', '*.o', '*.in', '*.gate', '*.out'] },
  { id: 'muon-vo-in', label: 'Muon(V,O + W_in)', muon: ['*.v', '*.o', '*.in', '*.gate'] },
  { id: 'muon-vo-out', label: 'Muon(V,O + W_out)', muon: ['*.v', '*.o', '*.out'] },
  { id: 'muon-qk', label: 'Muon(Q,K) only', muon: ['*.q', '*.k'] },
  { id: 'muon-out', label: 'Muon(W_out) only', muon: ['*.out'] },
];

export interface CellRun {
  mlp: MlpKind;
  /** 'muon' = Muon on every hidden matrix; or an ablation assignment; or AdamW / SGD everywhere. */
  optimizer: OptimizerName | Assignment;
  /** Multiplies every group's base step size (a-data-scaling's grid). */
  lrFactor?: number;
  steps: number;
  seeds: readonly number[];
  data: TransformerConfigInput['data'];
  /** Matrix patterns whose isotropy is recorded, and how often. */
  isotropy?: { patterns: string[]; every: number };
  /** Training-record cadence (loss on the training batch, MaxLogit). */
  every: number;
}

/** The optimizer groups of a run (first match wins; specific patterns before the catch-all). */
export function optimizerGroups(run: Pick<CellRun, 'mlp' | 'optimizer' | 'lrFactor' | 'steps'>): TransformerConfigInput['optimizers'] {
  const f = run.lrFactor ?? 1;
  const schedule = { warmup: Math.max(1, Math.round(0.05 * run.steps)), decay: 'cosine' as const, final: 0.1 };
  const adamw = { label: 'adamw', patterns: ['*'], optimizer: { ...ADAMW, lr: ADAMW.lr * f }, schedule };
  if (run.optimizer === 'adamw') return [adamw];
  if (run.optimizer === 'sgd') return [{ label: 'sgd', patterns: ['*'], optimizer: { ...SGD, lr: SGD.lr * f }, schedule }];
  const muonPatterns = run.optimizer === 'muon' ? ['layer.*'] : run.optimizer.muon.filter((p) => run.mlp === 'swiglu' || p !== '*.gate');
  if (muonPatterns.length === 0) return [adamw];
  return [{ label: 'muon', patterns: muonPatterns, optimizer: { ...MUON, lr: MUON.lr * f }, schedule, muonScale: 'shape' }, adamw];
}

/** The knowledge corpus of a scale with exponent α. */
export function knowledgeData(scale: Scale, alpha: number, seed = 7): TransformerConfigInput['data'] {
  const s = TRANSFORMER_SCALES[scale];
  return {
    kind: 'knowledge',
    individuals: s.individuals,
    attributes: s.attributes,
    templates: templatesFor(s.attributes),
    qaFraction: 0.5,
    alpha,
    seed,
    shared: false,
  };
}

/** The in-context regression control of a scale (as many tasks as the corpus has individuals). */
export function regressionData(scale: Scale, alpha: number, seed = 7): TransformerConfigInput['data'] {
  const s = TRANSFORMER_SCALES[scale];
  return { kind: 'regression', tasks: s.individuals, inputDim: 2, bins: 8, alpha, seed, shared: false };
}

/**
 * The config a cell trains.
 *
 * @example
 * cellConfig('ci', 'ht-muon-a1', { mlp: 'relu2', optimizer: 'muon', steps: 40, seeds: [1, 2], data: knowledgeData('ci', 1), every: 10 });
 */
export function cellConfig(scale: Scale, name: string, run: CellRun): TransformerConfigInput {
  const s = TRANSFORMER_SCALES[scale];
  return {
    schema: 'muonlab.transformer/1',
    name,
    model: { layers: s.layers, dModel: s.dModel, heads: s.heads, vocab: s.vocab, maxSeqLen: s.seqLen, mlp: run.mlp },
    data: run.data,
    optimizers: optimizerGroups(run),
    training: { steps: run.steps, batchSize: s.batchSize, seqLen: s.seqLen, seeds: [...run.seeds], clipNorm: 1 },
    metrics: { every: run.every, isotropy: run.isotropy?.patterns ?? [], isotropyEvery: run.isotropy?.every },
  };
}

/** Tokens one replica trains on per step at a scale. */
export function tokensPerStep(scale: Scale): number {
  const s = TRANSFORMER_SCALES[scale];
  return s.batchSize * s.seqLen;
}

/** The model in words (`muonlab presets`). */
export function describeModel(scale: Scale): string {
  const s = TRANSFORMER_SCALES[scale];
  return `L ${s.layers}, d ${s.dModel}, H ${s.heads}, T ${s.seqLen}, ${s.batchSize} sequences/step`;
}
