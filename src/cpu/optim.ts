/**
 * Float64 twins of the optimizer steps in src/optim/ (docs/math.md §2), one run at a time, from the same
 * state and the same per-run parameters (the RunParams values the GPU kernels read). Each step
 * computes the candidate W and state, and commits them only when all are finite — otherwise the run
 * is marked diverged at this step and keeps its last finite state, as the GPU update kernels do.
 */
import type { RunParamValues } from '../layout/runParams';
import type { OptimizerConfig, OrthSpec } from '../optim/config';
import { newtonSchulzCpu, nsSchedule } from './newtonSchulz';
import { polarFactor, regularizedPolar } from './polar';

export const FLAG_NESTEROV = 1;
export const FLAG_EMA = 2;
export const FLAG_DECOUPLED = 4;

export interface CpuRunState {
  w: Float64Array;
  /** Momentum / first moment / Muon buffer. */
  m?: Float64Array;
  /** Adam's second moment. */
  v?: Float64Array;
}

/** Item-major embeddings (N × d, one item per row) for tra-signgd. */
export interface CpuEmbeddings {
  N: number;
  /** N × d_in. */
  input: ArrayLike<number>;
  /** N × d_out. */
  output: ArrayLike<number>;
}

export interface CpuStepArgs {
  config: OptimizerConfig;
  rows: number;
  cols: number;
  params: RunParamValues;
  gradient: ArrayLike<number>;
  embeddings?: CpuEmbeddings;
}

function assertFiniteGradient(g: ArrayLike<number>, rows: number, cols: number): void {
  if (g.length !== rows * cols) throw new RangeError(`gradient: expected ${rows}×${cols} = ${rows * cols} values, got ${g.length}`);
  for (let i = 0; i < g.length; i++) {
    if (!Number.isFinite(g[i])) {
      throw new RangeError(`gradient: non-finite value ${g[i]} at (${Math.floor(i / cols)}, ${i % cols}); a gradient must be finite`);
    }
  }
}

/** D = orth(X) for Muon on the CPU: a Newton–Schulz schedule or the SVD polar factor (`exact`). */
export function orthogonalizeCpu(x: ArrayLike<number>, rows: number, cols: number, orth: OrthSpec): Float64Array {
  if (orth === 'exact') return polarFactor(x, rows, cols);
  return newtonSchulzCpu(x, rows, cols, nsSchedule(orth)).x;
}

function multiply(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  m: number,
  k: number,
  n: number,
  transA = false,
  transB = false,
): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += (transA ? a[p * m + i] : a[i * k + p]) * (transB ? b[j * k + p] : b[p * n + j]);
      c[i * n + j] = s;
    }
  }
  return c;
}

/** tra-signgd's D = Ẽ sign(Ẽᵀ G E) Eᵀ with item-major embeddings (Ẽ = outputᵀ, E = inputᵀ). */
export function traSignDirectionCpu(g: ArrayLike<number>, rows: number, cols: number, emb: CpuEmbeddings): Float64Array {
  const { N } = emb;
  const gE = multiply(g, emb.input, rows, cols, N, false, true); // d_out × N
  const s = multiply(emb.output, gE, N, rows, N); // N × N = Ẽᵀ G E
  const sign = s.map(Math.sign);
  const t = multiply(emb.output, sign, rows, N, N, true); // d_out × N
  return multiply(t, emb.input, rows, N, cols); // d_out × d_in
}

/**
 * One optimizer step of one run; returns whether the run diverged at this step. A run already
 * diverged (`params.diverged`) is left untouched.
 *
 * @example
 * const state = { w: new Float64Array(6), m: new Float64Array(6) };
 * optimizerStepCpu(state, { config, rows: 2, cols: 3, params, gradient: g });
 */
export function optimizerStepCpu(state: CpuRunState, args: CpuStepArgs): { diverged: boolean } {
  const { config, rows, cols, params: p, gradient: g } = args;
  assertFiniteGradient(g, rows, cols);
  if (p.diverged) return { diverged: true };
  const n = rows * cols;
  const w = state.w;
  const wNew = new Float64Array(n);
  let mNew: Float64Array | undefined;
  let vNew: Float64Array | undefined;
  const nesterov = (p.flags & FLAG_NESTEROV) !== 0;
  switch (config.name) {
    case 'gd':
    case 'sgd': {
      const m = state.m ?? new Float64Array(n);
      mNew = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        mNew[i] = p.momentum * m[i] + g[i];
        const d = nesterov ? g[i] + p.momentum * mNew[i] : mNew[i];
        wNew[i] = w[i] - p.lr * d;
      }
      break;
    }
    case 'signgd':
      for (let i = 0; i < n; i++) wNew[i] = w[i] - p.lr * Math.sign(g[i]);
      break;
    case 'adam':
    case 'adamw': {
      const m = state.m ?? new Float64Array(n);
      const v = state.v ?? new Float64Array(n);
      mNew = new Float64Array(n);
      vNew = new Float64Array(n);
      const t = p.step + 1;
      const c1 = 1 - p.beta1 ** t;
      const c2 = 1 - p.beta2 ** t;
      const decoupled = (p.flags & FLAG_DECOUPLED) !== 0;
      for (let i = 0; i < n; i++) {
        const gi = decoupled ? g[i] : g[i] + p.weightDecay * w[i];
        mNew[i] = p.beta1 * m[i] + (1 - p.beta1) * gi;
        vNew[i] = p.beta2 * v[i] + (1 - p.beta2) * gi * gi;
        const d = mNew[i] / c1 / (Math.sqrt(vNew[i] / c2) + p.eps);
        wNew[i] = w[i] - p.lr * (d + (decoupled ? p.weightDecay * w[i] : 0));
      }
      break;
    }
    case 'muon': {
      const b = state.m ?? new Float64Array(n);
      const ema = (p.flags & FLAG_EMA) !== 0;
      const mu = p.momentum;
      mNew = new Float64Array(n);
      const x = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        mNew[i] = ema ? mu * b[i] + (1 - mu) * g[i] : mu * b[i] + g[i];
        x[i] = !nesterov ? mNew[i] : ema ? (1 - mu) * g[i] + mu * mNew[i] : g[i] + mu * mNew[i];
      }
      const d = orthogonalizeCpu(x, rows, cols, config.orth);
      for (let i = 0; i < n; i++) wNew[i] = w[i] - p.lr * p.scale * d[i];
      break;
    }
    case 'muon-reg': {
      const d = regularizedPolar(g, rows, cols, p.lambda);
      for (let i = 0; i < n; i++) wNew[i] = w[i] - p.lr * p.scale * d[i];
      break;
    }
    case 'tra-signgd': {
      if (!args.embeddings) throw new RangeError('tra-signgd: needs the task embeddings (orthonormal only)');
      const d = traSignDirectionCpu(g, rows, cols, args.embeddings);
      for (let i = 0; i < n; i++) wNew[i] = w[i] - p.lr * p.scale * d[i];
      break;
    }
  }
  const finite = (a?: Float64Array) => !a || a.every(Number.isFinite);
  if (!finite(wNew) || !finite(mNew) || !finite(vNew)) return { diverged: true };
  state.w = wNew;
  if (mNew) state.m = mNew;
  if (vNew) state.v = vNew;
  return { diverged: false };
}
