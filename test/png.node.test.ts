// PNG figures rendered by headless Chromium from the SVGs Vega writes in Node (harness/png.ts,
// written by harness/presetRun.ts writePresetReport beside each SVG and .vl.json): the file exists,
// decodes, is 2× the SVG's size, and is not blank (luminance variance well above that of an empty
// image). Measured in the browser on the rendered SVG: a figure with 12 series keeps every legend
// label inside the image, and the two figures the issue found unreadable (capacity vs d, Δ vs loss)
// spread their data over most of the plot area.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { chromium, type Browser } from 'playwright';
import { defaultBrowserArgs, findChromium } from '../harness/flags';
import { decodePng, luminanceVariance, renderSvgsToPng, svgSize } from '../harness/png';
import { writePresetReport } from '../harness/presetRun';
import type { PresetReport } from '../src/experiments/presets/types';
import { parseExperimentConfig } from '../src/experiments/config';
import { deltaVsLossFigure } from '../src/plots/figures/balance';
import { capacityVsDFigure } from '../src/plots/figures/capacity';
import { trainingFigures } from '../src/plots/figures/training';
import { renderFigureSvg } from '../src/plots/render';
import type { TrainMetricsRecord } from '../src/train/records';

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

// As c-capacity-onestep measures them: Muon ≈ d^1.4, GD ≈ d^0.4, and the GPU f32 variant, 3 values of a.
const capacity = capacityVsDFigure(
  [1.25, 1.5, 2].flatMap((a) =>
    [64, 128, 256].flatMap((d) => [
      { a, d, seed: 1, optimizer: 'GD', capacity: Math.round(d ** 0.4) },
      { a, d, seed: 1, optimizer: 'Muon', capacity: Math.round(0.2 * d ** 1.4) },
      { a, d, seed: 1, optimizer: 'Muon (GPU f32 Polar Express)', capacity: Math.round(0.12 * d ** 1.4) },
    ]),
  ),
  { N: 4096 },
);
let plot = '';

beforeAll(async () => {
  plot = await renderFigureSvg(capacity.spec);
}, 60_000);

/** Boxes (in SVG pixels) of the rendered SVG's elements, measured by the browser's layout. */
async function measure(svg: string): Promise<{
  width: number;
  height: number;
  legend: { text: string; x0: number; x1: number; y0: number; y1: number }[];
  frames: { x0: number; x1: number; y0: number; y1: number }[];
  data: { x0: number; x1: number; y0: number; y1: number }[];
}> {
  const page = await browser!.newPage();
  try {
    await page.setContent(`<!doctype html><html><body style="margin:0">${svg}</body></html>`);
    return await page.evaluate(() => {
      const root = document.querySelector('svg')!;
      const origin = root.getBoundingClientRect();
      const box = (e: Element) => {
        const r = e.getBoundingClientRect();
        return { x0: r.left - origin.left, x1: r.right - origin.left, y0: r.top - origin.top, y1: r.bottom - origin.top };
      };
      return {
        width: Number(root.getAttribute('width')),
        height: Number(root.getAttribute('height')),
        legend: [...document.querySelectorAll('.role-legend-label text')].map((t) => ({ text: t.textContent ?? '', ...box(t) })),
        // Each panel's plot area: the background rect of a cell group.
        frames: [...document.querySelectorAll('g.cell > path.background, g.mark-group.role-scope.cell > g > path.background')].map(box),
        data: [...document.querySelectorAll('[aria-roledescription="point"]')].map(box),
      };
    });
  } finally {
    await page.close();
  }
}

describe('PNG plots from SVG', { timeout: 60_000 }, () => {
  test('a plot renders at the SVG size with visible content; an empty SVG is blank', async (ctx) => {
    if (!browser) return ctx.skip(skipReason);
    const blank = '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="80"></svg>';
    const [png, empty] = await renderSvgsToPng(browser, [plot, blank]);
    const decoded = decodePng(png);
    // 2× the SVG (a figure is laid out for 1× in a report; its PNG is for slides and papers).
    expect({ width: decoded.width, height: decoded.height }).toEqual({ width: 2 * svgSize(plot).width, height: 2 * svgSize(plot).height });
    expect(svgSize(plot).width).toBeGreaterThan(400);
    // Black axes and text and coloured lines on white: the variance of a plot is in the hundreds or
    // thousands (of 255²); a blank page's is 0.
    expect(luminanceVariance(decoded)).toBeGreaterThan(100);
    const e = decodePng(empty);
    expect([e.width, e.height]).toEqual([240, 160]);
    expect(luminanceVariance(e)).toBeLessThan(1e-9);
  });

  test('writePresetReport writes plots/NAME.svg, NAME.vl.json and NAME.png, listed in summary.json', async (ctx) => {
    if (!browser) return ctx.skip(skipReason);
    const dir = mkdtempSync(join(tmpdir(), 'muonlab-png-'));
    const report: PresetReport = {
      schema: 'muonlab.preset-summary/2',
      preset: 'test',
      scale: 'ci',
      createdAt: 'now',
      settings: {},
      predictions: [{ name: 'p', formula: 'f', predicted: 1, measured: 1, tolerance: '±0', agrees: true }],
      measurements: [],
      plots: [capacity],
      markdown: '# test\n',
      elapsedMs: 0,
    };
    await writePresetReport(browser, dir, report);
    const svg = readFileSync(join(dir, 'plots', 'capacity-vs-d.svg'), 'utf8');
    // The same drawing as a fresh render (clip-path ids count up per process).
    const ids = (text: string) => text.replace(/clip\d+/g, 'clip');
    expect(ids(svg)).toBe(ids(plot));
    expect(JSON.parse(readFileSync(join(dir, 'plots', 'capacity-vs-d.vl.json'), 'utf8'))).toEqual(
      JSON.parse(JSON.stringify(capacity.spec)),
    );
    const png = decodePng(readFileSync(join(dir, 'plots', 'capacity-vs-d.png')));
    expect([png.width, png.height]).toEqual([2 * svgSize(svg).width, 2 * svgSize(svg).height]);
    expect(luminanceVariance(png)).toBeGreaterThan(100);
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    expect(summary.png).toEqual(['plots/capacity-vs-d.png']);
    expect(summary.plots).toEqual(['plots/capacity-vs-d.svg']);
    expect(summary.specs).toEqual(['plots/capacity-vs-d.vl.json']);
    // Without a browser the SVG and spec are still written, the PNG is not.
    const noBrowser = mkdtempSync(join(tmpdir(), 'muonlab-png-'));
    await writePresetReport(undefined, noBrowser, report);
    expect(existsSync(join(noBrowser, 'plots', 'capacity-vs-d.svg'))).toBe(true);
    expect(existsSync(join(noBrowser, 'plots', 'capacity-vs-d.png'))).toBe(false);
    expect(JSON.parse(readFileSync(join(noBrowser, 'summary.json'), 'utf8')).png).toEqual([]);
  }, 60_000);

  test('a figure with 12 series keeps every legend label inside the image (measured in the browser)', async (ctx) => {
    if (!browser) return ctx.skip(skipReason);
    const labels = Array.from({ length: 12 }, (_, k) => `Muon (GPU f32 Polar Express) run ${k + 1}`);
    const config = parseExperimentConfig({
      name: 'many',
      task: { N: 64, dIn: 16, dOut: 16, embedding: 'gaussian' },
      optimizers: labels.map((label, k) => ({ name: 'muon', label, lr: 1 + k })),
      training: { steps: 1 },
    });
    const records = [0, 1].flatMap((step) =>
      labels.map(
        (label, k) =>
          ({
            run: k,
            optimizer: label,
            optimizerName: 'muon',
            runSeed: 0,
            step,
            lr: 1,
            loss: 4 - step - k / 20,
            evalItems: 64,
            capacity: 1,
            capacityPrefix: 1,
            delta: 0.1,
            maxPCorrect: 0.5,
            minPCorrect: 0.4,
            buckets: [],
            diverged: false,
            divergedAtStep: null,
          }) as TrainMetricsRecord,
      ),
    );
    const svg = await renderFigureSvg(trainingFigures([{ id: 'one', point: {}, config, records }])[0].spec);
    const m = await measure(svg);
    expect(m.legend.map((l) => l.text).sort()).toEqual([...labels].sort());
    for (const l of m.legend) {
      expect(l.x0, l.text).toBeGreaterThanOrEqual(0);
      expect(l.x1, l.text).toBeLessThanOrEqual(m.width);
      expect(l.y0, l.text).toBeGreaterThanOrEqual(0);
      expect(l.y1, l.text).toBeLessThanOrEqual(m.height);
    }
    // And in the PNG: the rightmost column of pixels is white (nothing runs off the edge).
    const [png] = await renderSvgsToPng(browser, [svg]);
    const d = decodePng(png);
    for (let y = 0; y < d.height; y++) {
      const o = (y * d.width + d.width - 1) * d.channels;
      expect([d.pixels[o], d.pixels[o + 1], d.pixels[o + 2]], `right edge, row ${y}`).toEqual([255, 255, 255]);
    }
  }, 60_000);

  test("capacity vs d and Δ vs loss spread their data over most of each panel (the issue's two unreadable figures)", async (ctx) => {
    if (!browser) return ctx.skip(skipReason);
    // Δ vs loss as b-balance-onestep measures it: losses from ln N down to 1e-28 over 16 step sizes.
    const losses = Array.from({ length: 16 }, (_, k) => 6.4 * (1e-28 / 6.4) ** (k / 15));
    const curves = ['identity', 'coupled-rotation'].flatMap((embedding) =>
      ['GD', 'SignGD', 'Muon exact', 'Muon ns5', 'Adam (β=0, ε=1e-12)'].map((optimizer, o) => ({
        optimizer,
        embedding,
        etas: losses.map((_l, k) => 10 ** (k / 3)),
        points: losses.map((l, k) => [l, Math.min(1, 0.15 * (o + 1) * Math.sin((Math.PI * k) / 15))] as [number, number]),
      })),
    );
    for (const svg of [plot, await renderFigureSvg(deltaVsLossFigure(curves, { N: 600 }).spec)]) {
      const m = await measure(svg);
      expect(m.frames.length).toBeGreaterThan(0);
      for (const f of m.frames) {
        const inside = m.data.filter((p) => p.x0 >= f.x0 - 6 && p.x1 <= f.x1 + 6 && p.y0 >= f.y0 - 6 && p.y1 <= f.y1 + 6);
        expect(inside.length).toBeGreaterThan(0);
        const spanX = (Math.max(...inside.map((p) => p.x1)) - Math.min(...inside.map((p) => p.x0))) / (f.x1 - f.x0);
        const spanY = (Math.max(...inside.map((p) => p.y1)) - Math.min(...inside.map((p) => p.y0))) / (f.y1 - f.y0);
        // The old capacity plot used ≈ 30% of its x axis; the old Δ-vs-loss ≈ 5%.
        expect(spanX, 'data across the panel').toBeGreaterThan(0.8);
        expect(spanY, 'data up the panel').toBeGreaterThan(0.5);
      }
      for (const l of m.legend) expect(l.x1, l.text).toBeLessThanOrEqual(m.width);
    }
  }, 60_000);

  test('decodePng refuses what it cannot read, saying why', () => {
    expect(() => decodePng(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]))).toThrow(/not a PNG/);
  });
});
