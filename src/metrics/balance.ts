/**
 * [B]'s balance metric ϱ_τ (eq. 5.1, docs/math.md §3) over one-step sweeps of the step size η: η_τ is the
 * smallest η at which the best-learned item reaches p̂ = 1 − τ, found by bisection to
 * |max − (1−τ)| ≤ 1e-5 (a grid overshoots GD's ϱ by ~6%), and ϱ_τ is the worst item's p̂ there.
 * [B]'s own definition takes the infimum of min p̂ over every η with max ≥ 1 − τ; that differs from
 * the first crossing when min p̂ is not increasing in η (SignGD on coupled rotations), so both are
 * reported. The per-item p̂ come from the caller (the GPU's values): nothing here is closed-form.
 */

export interface ExtremeRecall {
  max: number;
  min: number;
}

export interface BalanceResult {
  tau: number;
  etaTau: number;
  /** min_i p̂ at η_τ (first crossing). */
  rho: number;
  /** max_i p̂ at η_τ: within `tolerance` of 1 − τ. */
  maxAtEta: number;
  /** inf over the scanned η ≥ η_τ of min_i p̂ (with max ≥ 1 − τ), and where it was found. */
  rhoInfimum: number;
  etaInfimum: number;
  /** Step sizes evaluated. */
  evaluations: number;
  /** Calls of the (batched) evaluator. */
  passes: number;
}

export interface BalanceOptions {
  tau: number;
  /** Stop when |max − (1 − τ)| ≤ tolerance (default 1e-5). */
  tolerance?: number;
  /** First η tried when bracketing (default 1). */
  initialEta?: number;
  /** η values above η_τ scanned for the infimum, as multiples of η_τ (default log grid to 1000×). */
  infimumMultiples?: number[];
  /** Step sizes per evaluator call: the bracket narrows (lanes + 1)× per round (default 1: bisection). */
  lanes?: number;
  maxEvaluations?: number;
}

/**
 * ϱ_τ of a one-step sweep whose evaluator takes a scalar η (bisection, `lanes` = 1).
 *
 * @example
 * const r = await balanceRho((eta) => oneStepExtremes(eta), { tau: 0.1 });
 */
export function balanceRho(evaluate: (eta: number) => Promise<ExtremeRecall>, options: BalanceOptions): Promise<BalanceResult> {
  return searchBalance((etas) => Promise.all(etas.map(evaluate)), { lanes: 1, ...options, tau: options.tau });
}

/**
 * ϱ_τ with a batched evaluator (one call evaluates `lanes` step sizes, e.g. one GPU program):
 * bracket on a doubling grid from `initialEta`, narrow the bracket (lanes + 1)× per round until
 * |max − (1 − τ)| ≤ tolerance (at most 40 rounds), then scan the infimum multiples.
 *
 * @example
 * const r = await searchBalance((etas) => gpuExtremes(etas), { tau: 0.1, lanes: 16, initialEta: 1e-3 });
 */
export async function searchBalance(
  evaluateMany: (etas: number[]) => Promise<ExtremeRecall[]>,
  options: BalanceOptions,
): Promise<BalanceResult> {
  const { tau } = options;
  if (!(tau > 0 && tau < 1)) throw new RangeError(`balance: tau must be in (0, 1), got ${tau}`);
  const target = 1 - tau;
  const tolerance = options.tolerance ?? 1e-5;
  const lanes = options.lanes ?? 1;
  const maxEvaluations = options.maxEvaluations ?? Infinity;
  let evaluations = 0;
  let passes = 0;
  const evaluate = async (etas: number[]) => {
    evaluations += etas.length;
    if (evaluations > maxEvaluations) throw new Error(`balance: no η_τ within ${maxEvaluations} evaluations`);
    passes++;
    return evaluateMany(etas);
  };
  // Bracket on a doubling grid: lo has max < 1 − τ, hi has max ≥ 1 − τ.
  let lo = 0;
  let hi = NaN;
  for (let start = options.initialEta ?? 1; Number.isNaN(hi); start *= 2 ** lanes) {
    if (start > 1e30) throw new Error(`balance: max p̂ never reaches 1 − τ = ${target} (η up to 1e30)`);
    const etas = Array.from({ length: lanes }, (_, k) => start * 2 ** k);
    const r = await evaluate(etas);
    const k = r.findIndex((x) => x.max >= target);
    if (k < 0) lo = etas[lanes - 1];
    else {
      hi = etas[k];
      lo = k > 0 ? etas[k - 1] : lo;
    }
  }
  let best = { eta: hi, ...(await evaluate([hi]))[0] };
  for (let round = 0; round < 40 && Math.abs(best.max - target) > tolerance; round++) {
    const etas = Array.from({ length: lanes }, (_, k) => lo + ((hi - lo) * (k + 1)) / (lanes + 1));
    const r = await evaluate(etas);
    const k = r.findIndex((x) => x.max >= target);
    if (k >= 0) {
      hi = etas[k];
      lo = k > 0 ? etas[k - 1] : lo;
      best = { eta: hi, ...r[k] };
    } else lo = etas[lanes - 1];
    // The step size just below the crossing may already be within the tolerance.
    const below = k > 0 ? r[k - 1] : k < 0 ? r[lanes - 1] : undefined;
    if (below && Math.abs(below.max - target) <= tolerance) best = { eta: k > 0 ? etas[k - 1] : etas[lanes - 1], ...below };
  }
  const multiples = (options.infimumMultiples ?? Array.from({ length: 31 }, (_, k) => 10 ** (k / 10))).filter((m) => m > 1);
  const grid = multiples.map((m) => best.eta * m);
  const scan = grid.length ? await evaluate(grid) : [];
  let rhoInfimum = best.min;
  let etaInfimum = best.eta;
  scan.forEach((x, k) => {
    if (x.max >= target && x.min < rhoInfimum) {
      rhoInfimum = x.min;
      etaInfimum = grid[k];
    }
  });
  return { tau, etaTau: best.eta, rho: best.min, maxAtEta: best.max, rhoInfimum, etaInfimum, evaluations, passes };
}
