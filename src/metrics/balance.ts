/**
 * [B]'s balance metric ϱ_τ (eq. 5.1, SPEC §3) over one-step sweeps of the step size η: η_τ is the
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
  evaluations: number;
}

export interface BalanceOptions {
  tau: number;
  /** Stop when |max − (1 − τ)| ≤ tolerance (default 1e-5). */
  tolerance?: number;
  /** First η tried when bracketing (default 1). */
  initialEta?: number;
  /** η values above η_τ scanned for the infimum, as multiples of η_τ (default log grid to 1000×). */
  infimumMultiples?: number[];
  maxEvaluations?: number;
}

/**
 * @example
 * const r = await balanceRho((eta) => oneStepExtremes(eta), { tau: 0.1 });
 */
export async function balanceRho(evaluate: (eta: number) => Promise<ExtremeRecall>, options: BalanceOptions): Promise<BalanceResult> {
  const { tau } = options;
  if (!(tau > 0 && tau < 1)) throw new RangeError(`balanceRho: tau must be in (0, 1), got ${tau}`);
  const target = 1 - tau;
  const tolerance = options.tolerance ?? 1e-5;
  const maxEvaluations = options.maxEvaluations ?? 200;
  let evaluations = 0;
  const cache = new Map<number, ExtremeRecall>();
  const at = async (eta: number) => {
    let r = cache.get(eta);
    if (!r) {
      if (++evaluations > maxEvaluations) throw new Error(`balanceRho: no η_τ within ${maxEvaluations} evaluations`);
      r = await evaluate(eta);
      cache.set(eta, r);
    }
    return r;
  };
  // Bracket: lo below the crossing (max < 1 − τ), hi above (max ≥ 1 − τ).
  let lo = 0;
  let hi = options.initialEta ?? 1;
  while ((await at(hi)).max < target) {
    lo = hi;
    hi *= 2;
  }
  let eta = hi;
  let r = await at(hi);
  while (Math.abs(r.max - target) > tolerance) {
    eta = (lo + hi) / 2;
    if (eta === lo || eta === hi) break; // float resolution reached
    r = await at(eta);
    if (r.max >= target) hi = eta;
    else lo = eta;
  }
  let rhoInfimum = r.min;
  let etaInfimum = eta;
  const multiples = options.infimumMultiples ?? Array.from({ length: 31 }, (_, k) => 10 ** (k / 10));
  for (const m of multiples) {
    if (m <= 1) continue;
    const s = await at(eta * m);
    if (s.max >= target && s.min < rhoInfimum) {
      rhoInfimum = s.min;
      etaInfimum = eta * m;
    }
  }
  return { tau, etaTau: eta, rho: r.min, maxAtEta: r.max, rhoInfimum, etaInfimum, evaluations };
}
