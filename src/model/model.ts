/**
 * The transformer on the GPU (docs/transformer.md §2): R replicas of one shape as the batch axis of
 * every tensor, parameters stored in slots, the forward and the hand-written backward pass recorded
 * into one CommandRecorder. Float64 twin: src/cpu/transformerModel.ts (same operations, same order).
 *
 * Slots: the matrices of one optimizer group and one shape share a tensor [names·R, rows, cols],
 * name-major and replica-minor, so matrix (name, replica r) is entry nameIndex·R + r. A name's R
 * replicas are then a strided view (what the batched matmul takes), and an optimizer group's
 * same-shape matrices are one contiguous batch: Muon orthogonalises them all in one batched
 * Newton–Schulz call per step, the elementwise optimizers update them in one dispatch. Gradients
 * live in slots of the same layout.
 */
import type { CommandRecorder } from '../gpu/commands';
import type { Gpu } from '../gpu/device';
import { createTensor, readTensor, writeTensor, type Tensor } from '../gpu/tensor';
import { matmul } from '../kernels/matmul/matmul';
import * as ops from '../kernels/transformer/ops';
import { mlpHidden, transformerMatrices, type MatrixSpec, type TransformerDims } from '../layout/transformerShape';
import type { Params } from '../cpu/transformerModel';
import { LmHeadWorkspace, lmHead } from './lmHead';

export interface Slot {
  /** Index of the optimizer group (config order). */
  group: number;
  rows: number;
  cols: number;
  /** Matrix names in slot order. */
  names: string[];
  w: Tensor;
  g: Tensor;
}

export interface ModelShape {
  dims: TransformerDims;
  replicas: number;
  /** Sequences per step and replica. */
  rows: number;
  seqLen: number;
  /** The data adds a read-in vector per position to the embedding (the regression source). */
  readIn?: boolean;
}

interface LayerBuffers {
  n1: Tensor;
  r1: Tensor;
  q: Tensor;
  k: Tensor;
  v: Tensor;
  p: Tensor;
  rowMax: Tensor;
  att: Tensor;
  n2: Tensor;
  r2: Tensor;
  pre: Tensor;
  gate?: Tensor;
  act: Tensor;
}

/**
 * The GPU model: slots, activations and the recorded passes.
 *
 * @example
 * const model = new GpuTransformer(gpu, { dims, replicas: 2, rows: 8, seqLen: 64 }, assignment);
 * model.uploadParams(0, initParamsCpu(dims, 0));
 * await model.forward(rec); await model.backward(rec);
 */
export class GpuTransformer {
  readonly slots: Slot[] = [];
  readonly matrices: MatrixSpec[];
  readonly tokens: number;
  readonly hidden: number;
  /** Inputs, next-token targets and loss weights [R, tokens, 1]. */
  readonly inputs: Tensor;
  readonly targets: Tensor;
  readonly weights: Tensor;
  /** Per-position read-in vectors [R, tokens, d] added after the embedding (with shape.readIn). */
  readonly readIn?: Tensor;
  readonly head: LmHeadWorkspace;
  readonly layers: LayerBuffers[] = [];
  private readonly where = new Map<string, { slot: Slot; index: number }>();
  private readonly owned: Tensor[] = [];
  private readonly x: Tensor;
  private readonly nf: Tensor;
  private readonly rf: Tensor;
  private readonly work: Record<'dx' | 'dn' | 'tmp' | 'datt' | 'dq' | 'dk' | 'dv' | 'ds' | 'dact' | 'dpre' | 'dgate', Tensor>;
  private readonly csr: ops.CsrBuffers;

  constructor(
    readonly gpu: Gpu,
    readonly shape: ModelShape,
    /** Group index of every matrix, in transformerMatrices order. */
    readonly assignment: readonly number[],
  ) {
    const { dims, replicas: R, rows, seqLen: T } = shape;
    const d = dims.dModel;
    this.matrices = transformerMatrices(dims);
    this.tokens = rows * T;
    this.hidden = mlpHidden(d, dims.mlp);
    const N = this.tokens;
    const hid = this.hidden;
    // Slots in order of first appearance (group, shape).
    this.matrices.forEach((m, i) => {
      let slot = this.slots.find((s) => s.group === assignment[i] && s.rows === m.rows && s.cols === m.cols);
      if (!slot) {
        slot = { group: assignment[i], rows: m.rows, cols: m.cols, names: [], w: undefined as never, g: undefined as never };
        this.slots.push(slot);
      }
      this.where.set(m.name, { slot, index: slot.names.length });
      slot.names.push(m.name);
    });
    for (const s of this.slots) {
      const label = `group ${s.group} ${s.rows}×${s.cols}`;
      s.w = this.own(createTensor(gpu, { batch: s.names.length * R, rows: s.rows, cols: s.cols, label: `W ${label}` }));
      s.g = this.own(createTensor(gpu, { batch: s.names.length * R, rows: s.rows, cols: s.cols, label: `G ${label}` }));
    }
    const t = (label: string, r: number, c: number, dtype: 'f32' | 'u32' = 'f32') =>
      this.own(createTensor(gpu, { batch: R, rows: r, cols: c, dtype, label }));
    this.inputs = t('tokens', N, 1, 'u32');
    this.targets = t('targets', N, 1, 'u32');
    this.weights = t('loss weights', N, 1);
    this.x = t('residual stream x', N, d);
    if (shape.readIn) this.readIn = t('read-in vectors', N, d);
    const scores = rows * dims.heads * T;
    for (let l = 0; l < dims.layers; l++) {
      const n = (name: string, c: number) => t(`layer ${l} ${name}`, N, c);
      this.layers.push({
        n1: n('n(x)', d),
        r1: n('1/rms(x)', 1),
        q: n('q', d),
        k: n('k', d),
        v: n('v', d),
        p: t(`layer ${l} P`, scores, T),
        rowMax: t(`layer ${l} max logit`, scores, 1),
        att: n('attention out', d),
        n2: n('n(h)', d),
        r2: n('1/rms(h)', 1),
        pre: n('W_in·n(h)', hid),
        gate: dims.mlp === 'swiglu' ? n('W_gate·n(h)', hid) : undefined,
        act: n('act', hid),
      });
    }
    this.nf = t('final n(x)', N, d);
    this.rf = t('final 1/rms', N, 1);
    this.work = {
      dx: t('dL/dx', N, d),
      dn: t('dL/dn', N, d),
      tmp: t('norm backward out', N, d),
      datt: t('dL/d att', N, d),
      dq: t('dq', N, d),
      dk: t('dk', N, d),
      dv: t('dv', N, d),
      ds: t('dS', scores, T),
      dact: t('dL/d act', N, hid),
      dpre: t('dL/d pre', N, hid),
      dgate: t('dL/d gate', dims.mlp === 'swiglu' ? N : 1, dims.mlp === 'swiglu' ? hid : 1),
    };
    this.csr = {
      start: t('csr start', dims.vocab, 1, 'u32'),
      count: t('csr count', dims.vocab, 1, 'u32'),
      positions: t('csr positions', N, 1, 'u32'),
    };
    this.head = new LmHeadWorkspace(gpu, { replicas: R, tokens: N, dModel: d, vocab: dims.vocab });
  }

  private own(t: Tensor): Tensor {
    this.owned.push(t);
    return t;
  }

  /** Bytes of every buffer the model holds (parameters, gradients, activations, work, head). */
  get bytes(): number {
    return this.owned.reduce((n, t) => n + t.buffer.size, 0) + this.head.bytes;
  }

  private locate(name: string): { slot: Slot; index: number } {
    const at = this.where.get(name);
    if (!at) throw new RangeError(`no matrix named "${name}" (names: ${this.matrices.map((m) => m.name).join(', ')})`);
    return at;
  }

  /** The R replicas of a matrix: a strided view into its slot. */
  view(name: string, of: 'w' | 'g' = 'w'): Tensor {
    const { slot, index } = this.locate(name);
    const R = this.shape.replicas;
    const per = slot.rows * slot.cols;
    return { ...slot[of], batch: R, offset: index * R * per, batchStride: R > 1 ? per : 0 };
  }

  /** Writes replica r's parameters (every named matrix). */
  uploadParams(replica: number, params: Params): void {
    for (const m of this.matrices) {
      const v = this.view(m.name);
      writeTensor(this.gpu, { ...v, batch: 1, offset: v.offset + replica * m.rows * m.cols, batchStride: 0 }, params[m.name]);
    }
  }

  /** Reads every replica's parameters (or gradients) back, as Float64. */
  async readParams(of: 'w' | 'g' = 'w'): Promise<Params[]> {
    const R = this.shape.replicas;
    const out: Params[] = Array.from({ length: R }, () => ({}));
    for (const m of this.matrices) {
      const all = await readTensor(this.gpu, this.view(m.name, of));
      const per = m.rows * m.cols;
      for (let r = 0; r < R; r++) out[r][m.name] = Float64Array.from(all.subarray(r * per, (r + 1) * per));
    }
    return out;
  }

  /** Every replica's max attention logit per layer, from the readback of `rowMaxBuffers`. */
  get rowMaxBuffers(): Tensor[] {
    return this.layers.map((l) => l.rowMax);
  }

  /**
   * Records the forward pass and the head's loss (into `head.outputs`); with `gradients` also the
   * head's gradient pass and the whole backward pass into the gradient slots.
   */
  async forward(rec: CommandRecorder, options: { gradients: boolean }): Promise<void> {
    const { dims, replicas: R, rows, seqLen: T } = this.shape;
    const d = dims.dModel;
    const N = this.tokens;
    const es = { replicas: R, tokens: N, seqLen: T, dModel: d, vocab: dims.vocab, maxSeqLen: dims.maxSeqLen };
    await ops.embedForward(rec, es, { table: this.view('embed'), pos: this.view('pos'), tokens: this.inputs, out: this.x });
    // A fixed read-in carries no parameter: added to x, it changes no gradient formula below.
    if (this.readIn) await ops.residualAdd(rec, { x: this.x, y: this.readIn });
    const attn = { replicas: R, rows, seqLen: T, dModel: d, heads: dims.heads };
    for (let l = 0; l < dims.layers; l++) {
      const L = this.layers[l];
      const W = (kind: string) => this.view(`layer.${l}.${kind}`);
      await ops.rmsnormForward(rec, { x: this.x, y: L.n1, rstd: L.r1 });
      for (const kind of ['q', 'k', 'v'] as const)
        await matmul(rec, { a: L.n1, b: W(kind), c: L[kind], transB: true }, { label: `matmul ${kind}` });
      await ops.attentionForward(rec, attn, { q: L.q, k: L.k, v: L.v, p: L.p, out: L.att, rowMax: L.rowMax });
      await matmul(rec, { a: L.att, b: W('o'), c: this.x, transB: true, beta: 1 }, { label: 'matmul o (+ residual)' });
      await ops.rmsnormForward(rec, { x: this.x, y: L.n2, rstd: L.r2 });
      await matmul(rec, { a: L.n2, b: W('in'), c: L.pre, transB: true }, { label: 'matmul in' });
      if (dims.mlp === 'swiglu') {
        await matmul(rec, { a: L.n2, b: W('gate'), c: L.gate!, transB: true }, { label: 'matmul gate' });
        await ops.swigluForward(rec, { gate: L.gate!, up: L.pre, out: L.act });
      } else {
        await ops.activationForward(rec, dims.mlp, { pre: L.pre, out: L.act });
      }
      await matmul(rec, { a: L.act, b: W('out'), c: this.x, transB: true, beta: 1 }, { label: 'matmul out (+ residual)' });
    }
    await ops.rmsnormForward(rec, { x: this.x, y: this.nf, rstd: this.rf });
    const w = this.work;
    await lmHead(rec, this.head, {
      h: this.nf,
      W: this.view('head'),
      targets: this.targets,
      weights: this.weights,
      dh: w.dn,
      dW: options.gradients ? this.view('head', 'g') : undefined,
    });
    if (!options.gradients) return;
    await ops.rmsnormBackward(rec, { dy: w.dn, y: this.nf, rstd: this.rf, dx: w.dx });
    for (let l = dims.layers - 1; l >= 0; l--) {
      const L = this.layers[l];
      const W = (kind: string) => this.view(`layer.${l}.${kind}`);
      const G = (kind: string) => this.view(`layer.${l}.${kind}`, 'g');
      await matmul(rec, { a: w.dx, b: W('out'), c: w.dact }, { label: 'matmul dact' });
      await matmul(rec, { a: w.dx, b: L.act, c: G('out'), transA: true }, { label: 'matmul dW_out' });
      if (dims.mlp === 'swiglu') {
        await ops.swigluBackward(rec, { da: w.dact, gate: L.gate!, up: L.pre, dgate: w.dgate, dup: w.dpre });
        await matmul(rec, { a: w.dpre, b: L.n2, c: G('in'), transA: true }, { label: 'matmul dW_in' });
        await matmul(rec, { a: w.dgate, b: L.n2, c: G('gate'), transA: true }, { label: 'matmul dW_gate' });
        await matmul(rec, { a: w.dpre, b: W('in'), c: w.dn }, { label: 'matmul dn2' });
        await matmul(rec, { a: w.dgate, b: W('gate'), c: w.dn, beta: 1 }, { label: 'matmul dn2 (gate)' });
      } else {
        await ops.activationBackward(rec, dims.mlp, { dact: w.dact, pre: L.pre, dpre: w.dpre });
        await matmul(rec, { a: w.dpre, b: L.n2, c: G('in'), transA: true }, { label: 'matmul dW_in' });
        await matmul(rec, { a: w.dpre, b: W('in'), c: w.dn }, { label: 'matmul dn2' });
      }
      await ops.rmsnormBackward(rec, { dy: w.dn, y: L.n2, rstd: L.r2, dx: w.tmp });
      await ops.residualAdd(rec, { x: w.dx, y: w.tmp });
      await matmul(rec, { a: w.dx, b: L.att, c: G('o'), transA: true }, { label: 'matmul dW_o' });
      await matmul(rec, { a: w.dx, b: W('o'), c: w.datt }, { label: 'matmul datt' });
      await ops.attentionBackward(rec, attn, { dout: w.datt, q: L.q, k: L.k, v: L.v, p: L.p, ds: w.ds, dq: w.dq, dk: w.dk, dv: w.dv });
      for (const kind of ['q', 'k', 'v'] as const)
        await matmul(rec, { a: w[`d${kind}`], b: L.n1, c: G(kind), transA: true }, { label: `matmul dW_${kind}` });
      await matmul(rec, { a: w.dq, b: W('q'), c: w.dn }, { label: 'matmul dn1' });
      await matmul(rec, { a: w.dk, b: W('k'), c: w.dn, beta: 1 }, { label: 'matmul dn1 (k)' });
      await matmul(rec, { a: w.dv, b: W('v'), c: w.dn, beta: 1 }, { label: 'matmul dn1 (v)' });
      await ops.rmsnormBackward(rec, { dy: w.dn, y: L.n1, rstd: L.r1, dx: w.tmp });
      await ops.residualAdd(rec, { x: w.dx, y: w.tmp });
    }
    await ops.embedBackward(rec, es, {
      dx: w.dx,
      tokens: this.inputs,
      csr: this.csr,
      embedGrad: this.view('embed', 'g'),
      posGrad: this.view('pos', 'g'),
    });
  }

  destroy(): void {
    for (const t of this.owned) t.buffer.destroy();
    this.head.destroy();
  }
}
