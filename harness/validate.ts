/**
 * `muonlab run CONFIG.json --validate [--steps K]`: the first K steps (default 3) of the config's
 * first sweep cell on the GPU and the Float64 CPU reference, re-synchronized every step
 * (src/experiments/validate.ts). Prints the largest relative difference per optimizer and quantity
 * and writes validation.json (schema muonlab.validation/1) into the run folder.
 */
import { join, relative, resolve } from 'node:path';
import type { ExperimentConfig } from '../src/experiments/config';
import { expandSweep } from '../src/experiments/sweep';
import type { ValidationReport } from '../src/experiments/validate';
import { writeJsonAtomic } from './files';
import type { Session } from './session';
import { formatTable } from './table';

export async function runValidation(
  session: Session,
  config: ExperimentConfig,
  options: { out: string; steps?: number },
): Promise<ValidationReport> {
  const cells = expandSweep(config);
  const cell = cells[0];
  console.log(
    `validating ${config.name}${cells.length > 1 ? ` (first of ${cells.length} cells: ${cell.id})` : ''}: ${options.steps ?? 3} step(s), GPU vs Float64 CPU from the same state each step`,
  );
  const report = await session.call('validate', cell.config, options.steps);
  const fmt = (x: number | null) => (x === null ? 'NaN/∞' : x.toExponential(2));
  console.log(
    formatTable(
      ['optimizer', 'quantity', 'max relative', 'max absolute'],
      report.worst.map((w) => [w.optimizer, w.quantity, fmt(w.maxRelative), fmt(w.maxAbsolute)]),
    ),
  );
  const file = join(resolve(options.out, config.name), 'validation.json');
  writeJsonAtomic(file, report);
  console.log(`relative = max|GPU − CPU| / max|CPU| per run and step; every row: ${relative(process.cwd(), file)}`);
  return report;
}
