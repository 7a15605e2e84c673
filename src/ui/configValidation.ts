/**
 * Validation of the raw JSON editor's text: JSON syntax (with line and column), then the experiment
 * schema (every problem by path, with the allowed values of enums), then sweep expansion (zip groups
 * of equal length, every cell valid). Pure: the page shows the issues inline.
 */
import { ExperimentConfigSchema, type ExperimentConfig } from '../experiments/config';
import { expandSweep, type SweepCell } from '../experiments/sweep';
import { formatIssue } from '../experiments/strict';

export interface ConfigIssue {
  /** Dotted path into the config ('(json)' for syntax errors, '(sweep)' for expansion errors). */
  path: string;
  message: string;
}

export type ConfigCheck =
  | { ok: true; value: unknown; config: ExperimentConfig; cells: SweepCell[] }
  | { ok: false; value: unknown | undefined; issues: ConfigIssue[] };

/** Line and column (1-based) of a character offset. */
function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return `line ${line}, column ${offset - before.lastIndexOf('\n')}`;
}

/**
 * @example
 * const check = checkConfigText('{"name": "x"}');
 * if (!check.ok) for (const i of check.issues) console.log(`${i.path}: ${i.message}`);
 */
export function checkConfigText(text: string): ConfigCheck {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    const at = /position (\d+)/.exec(message);
    return {
      ok: false,
      value: undefined,
      issues: [{ path: '(json)', message: at ? `${message} (${lineColumn(text, Number(at[1]))})` : message }],
    };
  }
  const parsed = ExperimentConfigSchema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => formatIssue(i));
    return { ok: false, value, issues };
  }
  try {
    return { ok: true, value, config: parsed.data, cells: expandSweep(parsed.data) };
  } catch (err) {
    // One issue per problem line of expandSweep's error; sweep-axis lines keep their path.
    const lines = (err as Error).message.split('\n');
    const problems = (lines.length > 1 ? lines.slice(1) : lines).map((l) => l.trim()).filter(Boolean);
    return {
      ok: false,
      value,
      issues: problems.map((line) => {
        const m = /^(sweep(?:\.\d+\.\w+(?:\.\d+)?)?): (.*)$/.exec(line);
        return m ? { path: m[1], message: m[2] } : { path: '(sweep)', message: line };
      }),
    };
  }
}
