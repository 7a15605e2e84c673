/**
 * The check every figure test applies (figures.node.test.ts, transformerPresetFigures.node.test.ts):
 * the spec validates against the Vega-Lite JSON Schema, compiles without a warning, has a caption,
 * renders to SVG in Node, and no legend label is cut with an ellipsis.
 *
 * @example
 * beforeAll(compileVegaLiteSchema, 120_000);
 * const { counts } = await checkFigure(figure); // marks per series, counted by aria-label
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import Ajv from 'ajv';
import { expect } from 'vitest';
import { compileFigure, renderFigureSvg } from '../src/plots/render';
import type { Figure } from '../src/plots/spec';
import { legendLabels, seriesCounts } from './svgMarks';

const require = createRequire(import.meta.url);
let validate: ((spec: unknown) => boolean) | undefined;
let schemaErrors: () => string = () => '';

/**
 * Compiles the Vega-Lite schema (≈ 2 MB: seconds, once per test file). Formats (colour, URI) are not
 * checked; every structural rule is.
 */
export function compileVegaLiteSchema(): void {
  const schema = JSON.parse(readFileSync(require.resolve('vega-lite/vega-lite-schema.json'), 'utf8'));
  const ajv = new Ajv({
    allErrors: false,
    strict: false,
    allowUnionTypes: true,
    validateFormats: false,
    logger: false,
    code: { optimize: false },
  });
  const started = performance.now();
  const fn = ajv.compile(schema);
  console.log(`Vega-Lite schema compiled in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  validate = (spec) => fn(spec) as boolean;
  schemaErrors = () => JSON.stringify(fn.errors?.slice(0, 3));
}

/** Schema-valid, warning-free, captioned, rendered: the SVG and its marks per series. */
export async function checkFigure(figure: Figure): Promise<{ svg: string; counts: Record<string, Record<string, number>> }> {
  if (!validate) throw new Error('checkFigure: call compileVegaLiteSchema in beforeAll first');
  expect(validate(figure.spec), `${figure.name}: ${schemaErrors()}`).toBe(true);
  expect(compileFigure(figure.spec).warnings, figure.name).toEqual([]);
  expect(figure.caption.length, `${figure.name} caption`).toBeGreaterThan(20);
  const svg = await renderFigureSvg(figure.spec);
  expect(svg.startsWith('<svg')).toBe(true);
  // Legend labels are never cut with an ellipsis.
  for (const label of legendLabels(svg)) expect(label.endsWith('…'), `${figure.name}: legend label "${label}"`).toBe(false);
  return { svg, counts: seriesCounts(svg) };
}
