/**
 * Statistics over seeds for the transformer presets: the mean of a few replicas' values with a
 * Student-t confidence interval, and the same for paired differences (optimizer A − optimizer B on
 * the same seeds: same initial weights, same statement order), which removes the seed-to-seed
 * variation both share. With n = 3 seeds the 95% t quantile is 4.30: an interval is wide unless the
 * replicas agree closely, which is what the verdicts' "inconclusive" is for.
 */
import tQuantile from '@stdlib/stats-base-dists-t-quantile';

export interface SeedSummary {
  mean: number;
  /** Sample standard deviation (n − 1); NaN for one value. */
  sd: number;
  n: number;
  /** Two-sided t interval of the mean at `level`; [NaN, NaN] for one value. */
  ci: [number, number];
  level: number;
}

/**
 * Mean and t interval of values from independent seeds.
 *
 * @example
 * seedSummary([0.8, 0.9, 1.0]); // { mean: 0.9, sd: 0.1, n: 3, ci: [0.652, 1.148], level: 0.95 }
 */
export function seedSummary(values: readonly number[], level = 0.95): SeedSummary {
  const n = values.length;
  if (n === 0) throw new RangeError('seedSummary: no values');
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, sd: NaN, n, ci: [NaN, NaN], level };
  const sd = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1));
  const half = tQuantile(0.5 + level / 2, n - 1) * (sd / Math.sqrt(n));
  return { mean, sd, n, ci: [mean - half, mean + half], level };
}

/**
 * The paired difference a_s − b_s over seeds s (same seeds in the same order), summarised.
 *
 * @example
 * pairedDifference([0.5, 0.6, 0.7], [0.4, 0.5, 0.5]).mean; // 0.1333…
 */
export function pairedDifference(a: readonly number[], b: readonly number[], level = 0.95): SeedSummary {
  if (a.length !== b.length) throw new RangeError(`pairedDifference: ${a.length} values against ${b.length}; pair them by seed`);
  return seedSummary(
    a.map((v, i) => v - b[i]),
    level,
  );
}
