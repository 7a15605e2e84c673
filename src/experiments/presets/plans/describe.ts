/** Words for the sizes in preset plans (the `muonlab presets` listing), shared so they read alike. */

/**
 * A count as people write it: digits grouped by thousands from 10,000 on.
 *
 * @example
 * count(4096); // '4096'
 * count(100000); // '100,000'
 */
export function count(value: number): string {
  return value >= 10_000 ? value.toLocaleString('en-US') : String(value);
}

/**
 * `n thing` or `n things`.
 *
 * @example
 * plural(1, 'task seed'); // '1 task seed'
 * plural(4, 'task seed'); // '4 task seeds'
 */
export function plural(n: number, noun: string): string {
  return `${count(n)} ${noun}${n === 1 ? '' : 's'}`;
}

/**
 * `= v` for one value, `∈ {a, b, c}` for up to five, `∈ {first … last} (n values)` beyond.
 *
 * @example
 * listed([64]); // '= 64'
 * listed([64, 128, 256]); // '∈ {64, 128, 256}'
 * listed([2, 4, 8, 16, 32, 64]); // '∈ {2 … 64} (6 values)'
 */
export function listed(values: readonly number[]): string {
  if (values.length === 1) return `= ${count(values[0])}`;
  if (values.length <= 5) return `∈ {${values.map(count).join(', ')}}`;
  return `∈ {${count(values[0])} … ${count(values[values.length - 1])}} (${values.length} values)`;
}
