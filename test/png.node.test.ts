// PNG plots rendered by headless Chromium from the SVGs (harness/png.ts, written by
// harness/presetRun.ts writePresetReport beside each SVG): the file exists, decodes, has the SVG's
// size, and is not blank (luminance variance well above that of an empty plot).
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { chromium, type Browser } from 'playwright';
import { defaultBrowserArgs, findChromium } from '../harness/flags';
import { decodePng, luminanceVariance, renderSvgsToPng, svgSize } from '../harness/png';
import { writePresetReport } from '../harness/presetRun';
import { renderPlot } from '../src/experiments/svgPlot';
import type { PresetReport } from '../src/experiments/presets/types';

let browser: Browser | undefined;
let skipReason = '';

beforeAll(async () => {
  let playwrightPath: string | undefined;
  try {
    playwrightPath = chromium.executablePath();
  } catch {
    playwrightPath = undefined;
  }
  const found = findChromium(playwrightPath);
  if (!found) {
    if (process.env.CI) throw new Error('no Chromium found');
    skipReason = 'no Chromium found';
    return;
  }
  browser = await chromium.launch({ executablePath: found.path, args: defaultBrowserArgs() });
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

const plot = renderPlot({
  title: 'capacity vs d',
  xLabel: 'd', yLabel: 'items', xLog: true, yLog: true,
  series: [
    { name: 'Muon', points: [[64, 200], [128, 520], [256, 1300]] },
    { name: 'GD', points: [[64, 10], [128, 14], [256, 20]], dashed: true },
  ],
});

describe('PNG plots from SVG', () => {
  test('a plot renders at the SVG size with visible content; an empty SVG is blank', async (ctx) => {
    if (!browser) return ctx.skip(skipReason);
    const blank = '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="80"></svg>';
    const [png, empty] = await renderSvgsToPng(browser, [plot, blank]);
    const decoded = decodePng(png);
    expect({ width: decoded.width, height: decoded.height }).toEqual(svgSize(plot));
    expect(svgSize(plot)).toEqual({ width: 640, height: 400 });
    // Black axes and text and coloured lines on white: the variance of a plot is in the hundreds or
    // thousands (of 255²); a blank page's is 0.
    expect(luminanceVariance(decoded)).toBeGreaterThan(100);
    const e = decodePng(empty);
    expect([e.width, e.height]).toEqual([120, 80]);
    expect(luminanceVariance(e)).toBeLessThan(1e-9);
  });

  test('writePresetReport writes plots/NAME.png beside plots/NAME.svg, listed in summary.json', async (ctx) => {
    if (!browser) return ctx.skip(skipReason);
    const dir = mkdtempSync(join(tmpdir(), 'muonlab-png-'));
    const report: PresetReport = {
      schema: 'muonlab.preset-summary/2', preset: 'test', scale: 'ci', createdAt: 'now', settings: {},
      predictions: [{ name: 'p', formula: 'f', predicted: 1, measured: 1, tolerance: '±0', agrees: true }],
      measurements: [], plots: [{ name: 'capacity-vs-d', svg: plot }], markdown: '# test\n', elapsedMs: 0,
    };
    await writePresetReport(browser, dir, report);
    expect(existsSync(join(dir, 'plots', 'capacity-vs-d.svg'))).toBe(true);
    const png = decodePng(readFileSync(join(dir, 'plots', 'capacity-vs-d.png')));
    expect([png.width, png.height]).toEqual([640, 400]);
    expect(luminanceVariance(png)).toBeGreaterThan(100);
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    expect(summary.png).toEqual(['plots/capacity-vs-d.png']);
    expect(summary.plots).toEqual(['plots/capacity-vs-d.svg']);
  });

  test('decodePng refuses what it cannot read, saying why', () => {
    expect(() => decodePng(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]))).toThrow(/not a PNG/);
  });
});
