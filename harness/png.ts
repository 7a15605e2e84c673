/**
 * PNG figures rendered by the headless browser from the same SVG files (docs/architecture.md "plots (SVG/PNG)"):
 * each SVG is put alone in a blank page sized to its width × height and screenshotted at 2× (a
 * figure's SVG is laid out for 1× in a report; the PNG is for slides and papers), so the PNG is
 * exactly what a browser shows for the SVG. Vega's own PNG path needs node-canvas, a native build,
 * so it is not used. `decodePng` reads a PNG back (8-bit RGB/RGBA, no interlace — what Chromium
 * writes) for tests and checks.
 */
import { inflateSync } from 'node:zlib';
import { chromium, type Browser } from 'playwright';
import { defaultBrowserArgs, findChromium } from './flags';

/** Pixels per SVG pixel in the PNGs the CLI writes. */
export const PNG_SCALE = 2;

/** The SVG's pixel size from its width/height attributes (or its viewBox). */
export function svgSize(svg: string): { width: number; height: number } {
  const open = /<svg\b[^>]*>/i.exec(svg)?.[0];
  if (!open) throw new RangeError('svgSize: no <svg> element');
  const attr = (name: string) => {
    const m = new RegExp(`\\s${name}="([\\d.]+)(px)?"`).exec(open);
    return m ? Number(m[1]) : undefined;
  };
  let width = attr('width');
  let height = attr('height');
  if (width === undefined || height === undefined) {
    const vb = /viewBox="[\d.-]+[ ,]+[\d.-]+[ ,]+([\d.]+)[ ,]+([\d.]+)"/.exec(open);
    if (!vb) throw new RangeError('svgSize: the SVG has neither width/height nor a viewBox');
    width ??= Number(vb[1]);
    height ??= Number(vb[2]);
  }
  return { width: Math.ceil(width), height: Math.ceil(height) };
}

/**
 * Renders SVG documents to PNG in one page of `browser`; the PNG is `scale` × the SVG's size.
 *
 * @example
 * const [png] = await renderSvgsToPng(session.browser, [svgText]); // 2× the SVG
 */
export async function renderSvgsToPng(browser: Browser, svgs: readonly string[], scale = PNG_SCALE): Promise<Buffer[]> {
  const page = await browser.newPage({ deviceScaleFactor: scale });
  try {
    const out: Buffer[] = [];
    for (const svg of svgs) {
      const { width, height } = svgSize(svg);
      await page.setViewportSize({ width, height });
      await page.setContent(`<!doctype html><html><body style="margin:0;background:#fff">${svg}</body></html>`);
      out.push(await page.screenshot({ clip: { x: 0, y: 0, width, height }, type: 'png' }));
    }
    return out;
  } finally {
    await page.close();
  }
}

/**
 * A browser for PNGs, launched on demand where no session has one (`muonlab report`): the
 * Chromium that findChromium locates, or undefined — with the reason logged — when there is none or
 * it does not start, so that SVGs are still written. Close it with `browser?.close()`.
 *
 * @example
 * const browser = await launchPngRenderer(console.error);
 */
export async function launchPngRenderer(log: (message: string) => void): Promise<Browser | undefined> {
  const found = findChromium();
  if (!found) {
    log('PNG figures skipped: no Chromium found (SVG and .vl.json written)');
    return undefined;
  }
  try {
    return await chromium.launch({ executablePath: found.path, headless: true, args: defaultBrowserArgs({ robust: true }) });
  } catch (err) {
    log(`PNG figures skipped: could not launch ${found.path} (${(err as Error).message})`);
    return undefined;
  }
}

export interface DecodedPng {
  width: number;
  height: number;
  /** Channels per pixel (3 = RGB, 4 = RGBA). */
  channels: number;
  /** Row-major pixels, `channels` bytes each. */
  pixels: Uint8Array;
}

/** Decodes an 8-bit, non-interlaced RGB or RGBA PNG (throws on anything else, saying what). */
export function decodePng(data: Uint8Array): DecodedPng {
  const signature = [137, 80, 78, 71, 13, 10, 26, 10];
  if (!signature.every((b, i) => data[i] === b)) throw new RangeError('decodePng: not a PNG (bad signature)');
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let offset = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Uint8Array[] = [];
  while (offset < data.length) {
    const length = view.getUint32(offset);
    const type = String.fromCharCode(...data.subarray(offset + 4, offset + 8));
    const body = data.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      width = view.getUint32(offset + 8);
      height = view.getUint32(offset + 12);
      const depth = body[8];
      const colour = body[9];
      const interlace = body[12];
      if (depth !== 8 || (colour !== 2 && colour !== 6) || interlace !== 0) {
        throw new RangeError(
          `decodePng: only 8-bit RGB/RGBA without interlace (got depth ${depth}, colour type ${colour}, interlace ${interlace})`,
        );
      }
      channels = colour === 6 ? 4 : 3;
    } else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') break;
    offset += 12 + length;
  }
  if (!width || !height) throw new RangeError('decodePng: no IHDR chunk');
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  if (raw.length !== height * (stride + 1))
    throw new RangeError(`decodePng: ${raw.length} bytes of image data for ${width}×${height}×${channels}`);
  const pixels = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const left = x >= channels ? pixels[y * stride + x - channels] : 0;
      const up = y > 0 ? pixels[(y - 1) * stride + x] : 0;
      const upLeft = y > 0 && x >= channels ? pixels[(y - 1) * stride + x - channels] : 0;
      let v: number;
      switch (filter) {
        case 0:
          v = line[x];
          break;
        case 1:
          v = line[x] + left;
          break;
        case 2:
          v = line[x] + up;
          break;
        case 3:
          v = line[x] + ((left + up) >> 1);
          break;
        case 4: {
          const p = left + up - upLeft;
          const pa = Math.abs(p - left);
          const pb = Math.abs(p - up);
          const pc = Math.abs(p - upLeft);
          v = line[x] + (pa <= pb && pa <= pc ? left : pb <= pc ? up : upLeft);
          break;
        }
        default:
          throw new RangeError(`decodePng: unknown filter ${filter} in row ${y}`);
      }
      pixels[y * stride + x] = v & 0xff;
    }
  }
  return { width, height, channels, pixels };
}

/** Variance of the luminance over every pixel (0 for a blank image). */
export function luminanceVariance(png: DecodedPng): number {
  const n = png.width * png.height;
  let sum = 0;
  let sumSq = 0;
  for (let i = 0; i < n; i++) {
    const o = i * png.channels;
    const y = 0.299 * png.pixels[o] + 0.587 * png.pixels[o + 1] + 0.114 * png.pixels[o + 2];
    sum += y;
    sumSq += y * y;
  }
  const mean = sum / n;
  return sumSq / n - mean * mean;
}
