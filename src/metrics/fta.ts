/**
 * First-token accuracy by frequency bucket (docs/transformer.md §4): individuals are ranked by
 * frequency (rank = index: the corpus's individual 0 is the most frequent), the head is the 10 % most
 * frequent, the tail the 50 % least frequent, and deciles split the ranks in ten. An individual's FTA
 * is the share of its attributes whose QA probe's teacher-forced argmax is the value token; a
 * bucket's FTA is the mean over its individuals (each individual weighs the same, whatever its
 * frequency, which is what makes the tail visible).
 *
 * Also FTA against exposures: individuals grouped by how many statements about them the model was
 * trained on (the corpus's exact counts), in powers-of-two bins.
 */

export interface FtaBuckets {
  /** Over every individual. */
  all: number;
  /** The ⌈10 %⌉ most frequent. */
  head: number;
  /** The ⌊50 %⌋ least frequent. */
  tail: number;
  /** Ten rank deciles, most frequent first. */
  deciles: number[];
}

/**
 * The rank ranges of the buckets for P individuals: head [0, headEnd), tail [tailStart, P).
 *
 * @example
 * bucketBounds(256); // { headEnd: 26, tailStart: 128 }
 */
export function bucketBounds(P: number): { headEnd: number; tailStart: number } {
  return { headEnd: Math.max(1, Math.ceil(0.1 * P)), tailStart: P - Math.max(1, Math.floor(0.5 * P)) };
}

/** Decile (0 … 9) of rank i among P. */
export function decileOf(i: number, P: number): number {
  return Math.min(9, Math.floor((10 * i) / P));
}

/**
 * Bucket FTA from each individual's FTA (indexed by rank).
 *
 * @example
 * ftaBuckets([1, 1, 0.5, 0]); // { all: 0.625, head: 1, tail: 0.25, deciles: [...] }
 */
export function ftaBuckets(perIndividual: ArrayLike<number>): FtaBuckets {
  const P = perIndividual.length;
  if (P < 2) throw new RangeError(`ftaBuckets: ${P} individuals; at least 2`);
  const { headEnd, tailStart } = bucketBounds(P);
  const mean = (from: number, to: number) => {
    let s = 0;
    for (let i = from; i < to; i++) s += perIndividual[i];
    return s / (to - from);
  };
  const sums = new Array<number>(10).fill(0);
  const counts = new Array<number>(10).fill(0);
  for (let i = 0; i < P; i++) {
    sums[decileOf(i, P)] += perIndividual[i];
    counts[decileOf(i, P)]++;
  }
  return {
    all: mean(0, P),
    head: mean(0, headEnd),
    tail: mean(tailStart, P),
    deciles: sums.map((s, k) => (counts[k] ? s / counts[k] : NaN)),
  };
}

/**
 * Mean FTA of individuals grouped by exposure count in bins [2^k, 2^{k+1}) (bin −1: never seen).
 *
 * @example
 * ftaByExposure([1, 0.5, 0], [40, 5, 0]); // [{ from: 0, to: 1, … }, { from: 4, to: 8, … }, { from: 32, to: 64, … }]
 */
export function ftaByExposure(
  perIndividual: ArrayLike<number>,
  exposures: ArrayLike<number>,
): { from: number; to: number; individuals: number; fta: number }[] {
  const bins = new Map<number, { n: number; s: number }>();
  for (let i = 0; i < perIndividual.length; i++) {
    const e = exposures[i];
    const k = e === 0 ? -1 : Math.floor(Math.log2(e));
    const b = bins.get(k) ?? { n: 0, s: 0 };
    b.n++;
    b.s += perIndividual[i];
    bins.set(k, b);
  }
  return [...bins.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([k, b]) => ({ from: k < 0 ? 0 : 2 ** k, to: k < 0 ? 1 : 2 ** (k + 1), individuals: b.n, fta: b.s / b.n }));
}
