/**
 * Scaling-law fits: least squares in log–log space with a confidence interval on the exponent, and
 * the `C_a = c1 + c2/a` fit of exponents across power-law exponents a ([C]'s capacity exponents).
 * Student-t quantiles come from @stdlib (a maintained implementation, not a hand-rolled one).
 */
import tQuantile from '@stdlib/stats-base-dists-t-quantile';

export interface LinearFit {
  slope: number;
  intercept: number;
  /** Standard error of the slope (NaN with fewer than 3 points). */
  slopeStdErr: number;
  /** Two-sided confidence interval of the slope at `level` (NaN bounds with fewer than 3 points). */
  slopeCI: [number, number];
  /** Standard error of the intercept, s·√(1/n + x̄²/Sxx) (NaN with fewer than 3 points). */
  interceptStdErr: number;
  /** Two-sided confidence interval of the intercept at `level` (NaN bounds with fewer than 3 points). */
  interceptCI: [number, number];
  level: number;
  /** Coefficient of determination. */
  r2: number;
  points: number;
}

/** Ordinary least squares y = intercept + slope·x with a t-based CI on the slope. */
export function fitLine(x: readonly number[], y: readonly number[], level = 0.95): LinearFit {
  const n = x.length;
  if (n !== y.length) throw new RangeError(`fitLine: ${n} x values but ${y.length} y values`);
  if (n < 2) throw new RangeError(`fitLine: need at least 2 points, got ${n}`);
  const mx = x.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (x[i] - mx) ** 2;
    sxy += (x[i] - mx) * (y[i] - my);
    syy += (y[i] - my) ** 2;
  }
  if (sxx === 0) throw new RangeError('fitLine: all x values are equal; the slope is undefined');
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  let sse = 0;
  for (let i = 0; i < n; i++) sse += (y[i] - intercept - slope * x[i]) ** 2;
  const dof = n - 2;
  const slopeStdErr = dof > 0 ? Math.sqrt(sse / dof / sxx) : NaN;
  const t = dof > 0 ? tQuantile(0.5 + level / 2, dof) : NaN;
  const interceptStdErr = dof > 0 ? Math.sqrt((sse / dof) * (1 / n + (mx * mx) / sxx)) : NaN;
  return {
    slope,
    intercept,
    slopeStdErr,
    slopeCI: [slope - t * slopeStdErr, slope + t * slopeStdErr],
    interceptStdErr,
    interceptCI: [intercept - t * interceptStdErr, intercept + t * interceptStdErr],
    level,
    r2: syy > 0 ? 1 - sse / syy : 1,
    points: n,
  };
}

/**
 * Power law y ≈ C·x^k fitted in log–log (natural logs): `slope` is the exponent k. Points with
 * x ≤ 0 or y ≤ 0 cannot be placed on log axes and are rejected loudly (a capacity of 0 means the
 * experiment is below its scaling regime, not a point to drop silently).
 */
export function fitPowerLaw(x: readonly number[], y: readonly number[], level = 0.95): LinearFit {
  x.forEach((v, i) => {
    if (!(v > 0) || !(y[i] > 0)) throw new RangeError(`fitPowerLaw: point ${i} (${v}, ${y[i]}) is not positive`);
  });
  return fitLine(x.map(Math.log), y.map(Math.log), level);
}

/** Fits exponents C_a measured at several a to `C_a = c1 + c2/a` (a line in 1/a). */
export function fitExponentLaw(
  a: readonly number[],
  exponents: readonly number[],
  level = 0.95,
): { c1: number; c2: number; fit: LinearFit } {
  const fit = fitLine(
    a.map((v) => 1 / v),
    exponents,
    level,
  );
  return { c1: fit.intercept, c2: fit.slope, fit };
}
