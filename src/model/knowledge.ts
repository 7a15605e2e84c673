/**
 * The synthetic heavy-tailed knowledge corpus of docs/transformer.md §4 ([B]'s biographies): P
 * individuals, each a two-token name (first, last) and A single-token attributes, written as packed
 * statements — biography sentences from a few templates, or question–answer pairs — in which
 * individual i appears with probability ∝ (i + 1)^−α.
 *
 * Everything is a pure function of the config and integer Philox draws (src/cpu/philox.ts,
 * docs/math.md §6): the names, the facts, every training batch (step, replica), the held-out
 * validation batches and the QA probes. Generation runs on the CPU in TypeScript, the same code on
 * the browser host, the Node host and the Float64 twin, so the corpus is bit-identical wherever it is
 * made; the GPU only receives the token ids. Sampling uses integer comparisons against u32 thresholds
 * built once in Float64 (the minibatch rule of docs/math.md §1.7), never floating-point draws.
 *
 * Why these choices:
 * - Statements are packed whole: one that does not fit the rest of a row is dropped and the row is
 *   padded (PAD, weight 0). A cut statement would expose an individual without its fact, and the
 *   exposure counts would stop meaning "saw the fact".
 * - The exposure counts are derived from the batch function (a pure function of the step), not
 *   accumulated as a side effect of `batch()`: the trainer calls `batch()` again for metrics and for
 *   its evaluation pass, and a resumed run must count what the uninterrupted run counted. So the counts
 *   are exact by construction and need no checkpoint state.
 * - FTA ("first-token accuracy") probes each (individual, attribute) with its QA statement, teacher
 *   forced: the value is a single token, so the prediction at the position before it is the whole
 *   answer. Probes are packed in rank order into rows like training rows.
 */
import { mulhi32, philoxDraw, PHILOX_STREAMS } from '../cpu/philox';
import { frequencies } from '../task/frequencies';
import { itemFromThresholds, samplingThresholds } from '../task/sampling';
import type { TokenBatch, TokenSource } from './data';

export interface KnowledgeAttribute {
  /** Placeholder name in templates (`{birth_city}`), and the attribute token of QA statements. */
  name: string;
  /** Size of the attribute's own value vocabulary (each value a single token). */
  values: number;
}

export interface KnowledgeSourceConfig {
  kind: 'knowledge';
  /** P ≥ 2. */
  individuals: number;
  attributes: KnowledgeAttribute[];
  /** Biography templates: words separated by spaces, `{first}`, `{last}` and attribute placeholders. */
  templates: string[];
  /** The QA statement: `{attribute}`, `{first}`, `{last}` and `{value}` once each. */
  qaTemplate: string;
  /** Share of statements that are QA pairs, in [0, 1]. */
  qaFraction: number;
  /** Power-law exponent α ≥ 0 of the individuals' frequencies (0: uniform). */
  alpha: number;
  /** Seed of the world (names, facts) and of the statement order. */
  seed: number;
  /** One statement stream for every replica (true) or one per replica (seed + replica + 1). */
  shared: boolean;
  /** First- and last-name vocabulary sizes (default ⌈2√P⌉ each; their product must be ≥ P). */
  nameVocab?: number;
}

/** [B]'s attributes, four of them by default, each with its own value vocabulary. */
export const DEFAULT_ATTRIBUTES: KnowledgeAttribute[] = [
  { name: 'birth_city', values: 16 },
  { name: 'university', values: 16 },
  { name: 'major', values: 16 },
  { name: 'employer', values: 16 },
];

export const DEFAULT_TEMPLATES = [
  '{first} {last} was born in {birth_city} .',
  '{first} {last} studied at {university} .',
  '{first} {last} majored in {major} .',
  '{first} {last} works for {employer} .',
];

export const DEFAULT_QA_TEMPLATE = 'Q {attribute} {first} {last} A {value}';

/** The padding token: id 0, never a target. */
export const PAD = 0;

type Piece =
  { kind: 'word'; token: number } | { kind: 'first' } | { kind: 'last' } | { kind: 'attribute' } | { kind: 'value'; attribute?: number };

/** A template compiled to pieces, with the attributes it states. */
interface CompiledTemplate {
  pieces: Piece[];
  attributes: number[];
}

/** One statement placed in a row. */
export interface PlacedStatement {
  row: number;
  /** Position of its first token in the row. */
  start: number;
  length: number;
  individual: number;
  /** QA: the attribute asked; a biography: -1. */
  qaAttribute: number;
  /** Biography: the template index; QA: -1. */
  template: number;
}

/** The vocabulary: token ids by kind, and a name for each token (for reports and tests). */
export interface KnowledgeVocabulary {
  size: number;
  words: string[];
  /** First id of each kind. */
  wordBase: number;
  attributeBase: number;
  firstBase: number;
  lastBase: number;
  /** First value token of each attribute. */
  valueBase: number[];
  nameVocab: number;
  tokenName(id: number): string;
}

/** One QA probe: which fact, and where its answer is predicted in the probe batches. */
export interface QaProbe {
  individual: number;
  attribute: number;
  /** Probe batch, row and position t whose target (the next token) is the value. */
  batch: number;
  row: number;
  position: number;
}

const PLACEHOLDER = /^\{([A-Za-z_][A-Za-z0-9_]*)\}$/;

function fieldError(field: string, message: string): RangeError {
  return new RangeError(`${field}: ${message}`);
}

/**
 * Checks a knowledge config field by field (the schema has checked types and simple ranges); throws
 * a RangeError starting with the field's path: `data.alpha`, `data.individuals`, `data.qaFraction`,
 * `data.templates.1`, `data.attributes.2.name`, …. Called before any GPU work (config parsing).
 *
 * @example
 * validateKnowledgeConfig({ ...config, alpha: -1 }); // RangeError: data.alpha: must be ≥ 0 …
 */
export function validateKnowledgeConfig(c: KnowledgeSourceConfig, field = 'data'): void {
  if (!Number.isInteger(c.individuals) || c.individuals < 2)
    throw fieldError(`${field}.individuals`, `P = ${c.individuals}: the corpus needs at least 2 individuals (allowed: integers ≥ 2)`);
  if (!(c.alpha >= 0) || !Number.isFinite(c.alpha))
    throw fieldError(`${field}.alpha`, `α = ${c.alpha}: the power-law exponent must be ≥ 0 (0 is uniform)`);
  if (!(c.qaFraction >= 0 && c.qaFraction <= 1))
    throw fieldError(`${field}.qaFraction`, `${c.qaFraction} is outside [0, 1] (the share of QA statements)`);
  if (c.attributes.length < 1) throw fieldError(`${field}.attributes`, 'at least one attribute is needed');
  const seen = new Set<string>();
  c.attributes.forEach((a, i) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(a.name))
      throw fieldError(`${field}.attributes.${i}.name`, `"${a.name}" is not a placeholder name (letters, digits, _)`);
    if (['first', 'last', 'attribute', 'value'].includes(a.name))
      throw fieldError(`${field}.attributes.${i}.name`, `"${a.name}" is reserved for templates ({first}, {last}, {attribute}, {value})`);
    if (seen.has(a.name)) throw fieldError(`${field}.attributes.${i}.name`, `"${a.name}" is named twice`);
    seen.add(a.name);
    if (!Number.isInteger(a.values) || a.values < 2)
      throw fieldError(`${field}.attributes.${i}.values`, `${a.values}: an attribute needs at least 2 values`);
  });
  const nameVocab = c.nameVocab ?? defaultNameVocab(c.individuals);
  if (nameVocab * nameVocab < c.individuals)
    throw fieldError(
      `${field}.nameVocab`,
      `${nameVocab}² = ${nameVocab * nameVocab} name pairs cannot name P = ${c.individuals} individuals`,
    );
  if (c.templates.length === 0 && c.qaFraction < 1)
    throw fieldError(`${field}.templates`, `no biography template, but qaFraction = ${c.qaFraction} asks for biographies`);
  c.templates.forEach((t, i) => compileTemplate(t, c.attributes, `${field}.templates.${i}`, 'biography', new Map()));
  compileTemplate(c.qaTemplate, c.attributes, `${field}.qaTemplate`, 'qa', new Map());
}

/** ⌈2√P⌉, the name vocabulary size of docs/transformer.md §4. */
export function defaultNameVocab(individuals: number): number {
  return Math.ceil(2 * Math.sqrt(individuals));
}

function compileTemplate(
  text: string,
  attributes: readonly KnowledgeAttribute[],
  field: string,
  kind: 'biography' | 'qa',
  words: Map<string, number>,
): CompiledTemplate {
  const tokens = text.trim().split(/\s+/).filter(Boolean);
  const count = { first: 0, last: 0, attribute: 0, value: 0 };
  const pieces: Piece[] = [];
  const stated: number[] = [];
  for (const tok of tokens) {
    const m = PLACEHOLDER.exec(tok);
    if (!m) {
      if (tok.includes('{') || tok.includes('}')) throw fieldError(field, `"${tok}" is neither a word nor a {placeholder}`);
      if (!words.has(tok)) words.set(tok, words.size);
      pieces.push({ kind: 'word', token: words.get(tok)! });
      continue;
    }
    const name = m[1];
    if (name === 'first' || name === 'last') {
      count[name]++;
      pieces.push({ kind: name });
    } else if (kind === 'qa' && (name === 'attribute' || name === 'value')) {
      count[name]++;
      pieces.push(name === 'attribute' ? { kind: 'attribute' } : { kind: 'value' });
    } else {
      const a = attributes.findIndex((x) => x.name === name);
      if (a < 0) {
        const allowed =
          kind === 'qa' ? '{attribute}, {first}, {last}, {value}' : `{first}, {last}, ${attributes.map((x) => `{${x.name}}`).join(', ')}`;
        throw fieldError(field, `names attribute "{${name}}", which is not in data.attributes (allowed: ${allowed})`);
      }
      if (kind === 'qa') throw fieldError(field, `a QA template asks with {attribute} and answers with {value}, not "{${name}}"`);
      if (stated.includes(a)) throw fieldError(field, `states {${name}} twice`);
      stated.push(a);
      pieces.push({ kind: 'value', attribute: a });
    }
  }
  if (count.first !== 1 || count.last !== 1)
    throw fieldError(field, `must name the individual once: {first} ${count.first}×, {last} ${count.last}×`);
  if (kind === 'qa') {
    if (count.attribute !== 1 || count.value !== 1)
      throw fieldError(field, `needs {attribute} and {value} once each ({attribute} ${count.attribute}×, {value} ${count.value}×)`);
    if (pieces[0].kind === 'value') throw fieldError(field, '{value} cannot be the first token: its prediction needs a preceding position');
  } else if (stated.length === 0) throw fieldError(field, 'states no attribute (add a placeholder such as {birth_city})');
  return { pieces, attributes: stated };
}

/** The knowledge corpus of a config: world, vocabulary, batches, exposures, probes. */
export class KnowledgeCorpus {
  readonly vocabulary: KnowledgeVocabulary;
  /** First and last name token offsets (0 … nameVocab−1) of each individual. */
  readonly firstName: Uint32Array;
  readonly lastName: Uint32Array;
  /** Value index (0 … values−1) of attribute a of individual i at i·A + a. */
  readonly facts: Uint32Array;
  /** Frequencies p_i ∝ (i + 1)^−α (rank = index: individual 0 is the most frequent). */
  readonly p: Float64Array;
  private readonly thresholds: Uint32Array;
  private readonly templates: CompiledTemplate[];
  private readonly qa: CompiledTemplate;
  private readonly exposureCache = new Map<string, { steps: number; individual: Uint32Array; fact: Uint32Array }>();

  constructor(readonly config: KnowledgeSourceConfig) {
    validateKnowledgeConfig(config);
    const { individuals: P, attributes } = config;
    const A = attributes.length;
    const words = new Map<string, number>();
    this.templates = config.templates.map((t, i) => compileTemplate(t, attributes, `data.templates.${i}`, 'biography', words));
    this.qa = compileTemplate(config.qaTemplate, attributes, 'data.qaTemplate', 'qa', words);
    const nameVocab = config.nameVocab ?? defaultNameVocab(P);
    const wordList = [...words.keys()];
    const wordBase = 1;
    const attributeBase = wordBase + wordList.length;
    const firstBase = attributeBase + A;
    const lastBase = firstBase + nameVocab;
    const valueBase: number[] = [];
    let next = lastBase + nameVocab;
    for (const a of attributes) {
      valueBase.push(next);
      next += a.values;
    }
    const size = next;
    this.vocabulary = {
      size,
      words: wordList,
      wordBase,
      attributeBase,
      firstBase,
      lastBase,
      valueBase,
      nameVocab,
      tokenName: (id) => {
        if (id === PAD) return '<pad>';
        if (id < attributeBase) return wordList[id - wordBase];
        if (id < firstBase) return `<${attributes[id - attributeBase].name}>`;
        if (id < lastBase) return `first${id - firstBase}`;
        if (id < valueBase[0]) return `last${id - lastBase}`;
        for (let a = A - 1; a >= 0; a--) if (id >= valueBase[a]) return `${attributes[a].name}=${id - valueBase[a]}`;
        return `?${id}`;
      },
    };
    // Names: distinct (first, last) pairs by rejection, in order, from the names stream. A pair is the
    // high words of the draw's u32 times the vocabulary size (uniform, integer arithmetic only).
    this.firstName = new Uint32Array(P);
    this.lastName = new Uint32Array(P);
    const used = new Set<number>();
    for (let i = 0, k = 0; i < P; k++) {
      const x = philoxDraw(config.seed, PHILOX_STREAMS.knowledgeNames, k);
      const f = mulhi32(x[0], nameVocab);
      const l = mulhi32(x[1], nameVocab);
      const key = f * nameVocab + l;
      if (used.has(key)) continue;
      used.add(key);
      this.firstName[i] = f;
      this.lastName[i] = l;
      i++;
    }
    this.facts = new Uint32Array(P * A);
    for (let i = 0; i < P; i++) {
      for (let a = 0; a < A; a++) {
        const k = i * A + a;
        this.facts[k] = mulhi32(philoxDraw(config.seed, PHILOX_STREAMS.knowledgeFacts, Math.floor(k / 4))[k % 4], attributes[a].values);
      }
    }
    this.p = frequencies(P, config.alpha === 0 ? { kind: 'uniform' } : { kind: 'power', powerExponent: config.alpha });
    this.thresholds = samplingThresholds(this.p, 'data.alpha');
  }

  get individuals(): number {
    return this.config.individuals;
  }

  get attributes(): number {
    return this.config.attributes.length;
  }

  /** The value token of attribute a of individual i. */
  valueToken(i: number, a: number): number {
    return this.vocabulary.valueBase[a] + this.facts[i * this.attributes + a];
  }

  /** Writes a statement's tokens at `out[at…]`; returns its length. */
  private writeStatement(out: Uint32Array, at: number, individual: number, template: CompiledTemplate, qaAttribute: number): number {
    const v = this.vocabulary;
    template.pieces.forEach((piece, k) => {
      let tok: number;
      switch (piece.kind) {
        case 'word':
          tok = v.wordBase + piece.token;
          break;
        case 'first':
          tok = v.firstBase + this.firstName[individual];
          break;
        case 'last':
          tok = v.lastBase + this.lastName[individual];
          break;
        case 'attribute':
          tok = v.attributeBase + qaAttribute;
          break;
        case 'value':
          tok = this.valueToken(individual, piece.attribute ?? qaAttribute);
          break;
      }
      out[at + k] = tok;
    });
    return template.pieces.length;
  }

  /**
   * Rows of packed statements from a stream: statement j of row b is draw (b·T + j, counter) —
   * lane 0 the individual (thresholds), lane 1 QA or biography (below ⌊qaFraction·2³²⌋: QA), lane 2
   * the attribute asked (QA) or the template (biography), each by the high word of a product.
   */
  layout(
    stream: number,
    seed: number,
    counter: number,
    rows: number,
    T: number,
  ): { inputs: Uint32Array<ArrayBuffer>; statements: PlacedStatement[] } {
    const inputs = new Uint32Array(rows * T);
    const statements: PlacedStatement[] = [];
    const A = this.attributes;
    const qaBelow = this.config.qaFraction * 2 ** 32;
    for (let b = 0; b < rows; b++) {
      let at = 0;
      for (let j = 0; ; j++) {
        const x = philoxDraw(seed, stream, b * T + j, counter);
        const individual = itemFromThresholds(x[0], this.thresholds);
        const isQa = x[1] < qaBelow;
        const template = isQa ? this.qa : this.templates[mulhi32(x[2], this.templates.length)];
        const qaAttribute = isQa ? mulhi32(x[2], A) : -1;
        const length = template.pieces.length;
        if (at + length > T) break;
        this.writeStatement(inputs.subarray(b * T), at, individual, template, qaAttribute);
        statements.push({ row: b, start: at, length, individual, qaAttribute, template: isQa ? -1 : this.templates.indexOf(template) });
        at += length;
      }
    }
    return { inputs, statements };
  }

  /** Next-token targets and weights of packed rows: every token of a row but its last is a target. */
  private targetsOf(inputs: Uint32Array<ArrayBuffer>, statements: readonly PlacedStatement[], rows: number, T: number): TokenBatch {
    const targets = new Uint32Array(rows * T);
    const weights = new Float32Array(rows * T);
    const used = new Uint32Array(rows);
    for (const s of statements) used[s.row] = Math.max(used[s.row], s.start + s.length);
    for (let b = 0; b < rows; b++) {
      for (let t = 0; t + 1 < used[b]; t++) {
        targets[b * T + t] = inputs[b * T + t + 1];
        weights[b * T + t] = 1;
      }
    }
    return { inputs, targets, weights };
  }

  /** The statement seed of a replica. */
  streamSeed(replica: number): number {
    return (this.config.seed + (this.config.shared ? 0 : replica + 1)) >>> 0;
  }

  /** Training batch of update `step` (0-based) for a replica, with the statements it holds. */
  trainingBatch(step: number, replica: number, rows: number, T: number): TokenBatch & { statements: PlacedStatement[] } {
    const { inputs, statements } = this.layout(PHILOX_STREAMS.knowledgeData, this.streamSeed(replica), step, rows, T);
    return { ...this.targetsOf(inputs, statements, rows, T), statements };
  }

  /**
   * Validation batch k: statements in held-out orders (their own stream), the same facts and
   * frequencies; shared by every replica so all are scored on the same text.
   */
  validationBatch(k: number, rows: number, T: number): TokenBatch {
    const { inputs, statements } = this.layout(PHILOX_STREAMS.knowledgeValidation, this.config.seed, k, rows, T);
    return this.targetsOf(inputs, statements, rows, T);
  }

  /**
   * Exact exposure counts after `steps` updates: how many statements of the training batches
   * 0 … steps−1 named each individual, and each fact (i, a) (a QA pair asking it, or a biography
   * stating it). Incremental per (replica, rows, T); a pure function of the config.
   *
   * @example
   * corpus.exposures(0, 100, 8, 64).individual[0]; // statements about the most frequent individual in 100 steps
   */
  exposures(replica: number, steps: number, rows: number, T: number): { individual: Uint32Array; fact: Uint32Array } {
    const key = `${this.streamSeed(replica)}:${rows}:${T}`;
    const P = this.individuals;
    const A = this.attributes;
    let cached = this.exposureCache.get(key);
    if (!cached || cached.steps > steps) cached = { steps: 0, individual: new Uint32Array(P), fact: new Uint32Array(P * A) };
    for (let t = cached.steps; t < steps; t++) {
      for (const s of this.layout(PHILOX_STREAMS.knowledgeData, this.streamSeed(replica), t, rows, T).statements) {
        cached.individual[s.individual]++;
        if (s.qaAttribute >= 0) cached.fact[s.individual * A + s.qaAttribute]++;
        else for (const a of this.templates[s.template].attributes) cached.fact[s.individual * A + a]++;
      }
    }
    cached.steps = steps;
    this.exposureCache.set(key, cached);
    return { individual: cached.individual.slice(), fact: cached.fact.slice() };
  }

  /**
   * QA probes of the individuals `which` (default all), every attribute, packed in order into batches
   * of `rows` × T: the statement's value is the target at `position` (teacher forced).
   */
  qaProbes(rows: number, T: number, which?: readonly number[]): { batches: TokenBatch[]; probes: QaProbe[] } {
    const individuals = which ?? Array.from({ length: this.individuals }, (_, i) => i);
    const length = this.qa.pieces.length;
    if (length > T) throw new RangeError(`training.seqLen: T = ${T} is shorter than one QA statement (${length} tokens)`);
    const valueAt = this.qa.pieces.findIndex((p) => p.kind === 'value');
    const perRow = Math.floor(T / length);
    const total = individuals.length * this.attributes;
    const batches: TokenBatch[] = [];
    const probes: QaProbe[] = [];
    let k = 0;
    while (k < total) {
      const inputs = new Uint32Array(rows * T);
      const statements: PlacedStatement[] = [];
      for (let b = 0; b < rows && k < total; b++) {
        for (let j = 0; j < perRow && k < total; j++, k++) {
          const individual = individuals[Math.floor(k / this.attributes)];
          const attribute = k % this.attributes;
          const start = j * length;
          this.writeStatement(inputs.subarray(b * T), start, individual, this.qa, attribute);
          statements.push({ row: b, start, length, individual, qaAttribute: attribute, template: -1 });
          probes.push({ individual, attribute, batch: batches.length, row: b, position: start + valueAt - 1 });
        }
      }
      batches.push(this.targetsOf(inputs, statements, rows, T));
    }
    return { batches, probes };
  }

  /**
   * The source the trainer reads (docs/transformer.md §7): training batches by (step, replica).
   *
   * @example
   * const source = new KnowledgeCorpus(config).source();
   * source.batch(0, 0, 8, 64).inputs; // 8 packed rows
   */
  source(): TokenSource & { corpus: KnowledgeCorpus } {
    const v = this.vocabulary;
    const c = this.config;
    return {
      corpus: this,
      vocab: v.size,
      description: `knowledge(P=${c.individuals}, A=${c.attributes.length}, α=${c.alpha}, QA ${c.qaFraction}, V=${v.size}, seed=${c.seed})`,
      batch: (step, replica, rows, T) => {
        const { inputs, targets, weights } = this.trainingBatch(step, replica, rows, T);
        return { inputs, targets, weights };
      },
    };
  }
}

/** The vocabulary size a knowledge config needs (for the model's V check). */
export function knowledgeVocabSize(c: KnowledgeSourceConfig): number {
  const words = new Set<string>();
  for (const t of [...c.templates, c.qaTemplate]) for (const w of t.trim().split(/\s+/)) if (w && !PLACEHOLDER.test(w)) words.add(w);
  const nameVocab = c.nameVocab ?? defaultNameVocab(c.individuals);
  return 1 + words.size + c.attributes.length + 2 * nameVocab + c.attributes.reduce((n, a) => n + a.values, 0);
}

/**
 * Token lengths of every statement form (each biography template, then the QA template): the
 * sequence length must hold the longest.
 *
 * @example
 * knowledgeStatementLengths({ templates: ['{first} {last} was born in {birth_city} .'], qaTemplate: 'Q {attribute} {first} {last} A {value}' }); // [7, 6]
 */
export function knowledgeStatementLengths(c: Pick<KnowledgeSourceConfig, 'templates' | 'qaTemplate'>): number[] {
  return [...c.templates, c.qaTemplate].map((t) => t.trim().split(/\s+/).filter(Boolean).length);
}
