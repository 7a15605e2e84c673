/**
 * The TensorFlow.js peer of muonlab's transformer benchmark (issue 12): serves bench/tfjs/ on
 * 127.0.0.1, opens it in the same headless Chromium with the same flags as muonlab
 * (harness/flags.ts), trains the ci-size model (model.js) for N steps with TF.js's WebGPU backend and
 * prints tokens/s. Compare with `muonlab run bench/transformer-ci-adamw.json` (the same model and
 * optimizer kind; summary.json: tokensPerSecond).
 *
 *   cd bench/tfjs && npm install && cd ../.. && npx tsx bench/tfjs/run.ts [--steps 20] [--backend webgpu] [--json FILE]
 */
import { createReadStream, existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright';
import { defaultBrowserArgs, findChromium } from '../../harness/flags';

const here = dirname(fileURLToPath(import.meta.url));
const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const steps = Number(arg('steps', '20'));
const backend = arg('backend', 'webgpu');
const jsonOut = arg('json', '');

if (!existsSync(join(here, 'node_modules/@tensorflow/tfjs'))) {
  console.error(
    'bench/tfjs: run `npm install` in bench/tfjs first (it installs @tensorflow/tfjs and @tensorflow/tfjs-backend-webgpu 4.22.0)',
  );
  process.exit(2);
}
const types: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.map': 'application/json',
};
const server = createServer((req, res) => {
  const path = normalize(join(here, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)));
  const file = path.endsWith('/') ? join(path, 'index.html') : path;
  if (!file.startsWith(here) || !existsSync(file)) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' });
  createReadStream(file).pipe(res);
});
await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
const port = (server.address() as { port: number }).port;
const browserPath = findChromium()?.path;
const browser = await chromium.launch({ executablePath: browserPath, args: defaultBrowserArgs() });
try {
  const page = await browser.newPage();
  page.on('console', (m) => m.type() === 'error' && console.error(`page: ${m.text()}`));
  await page.goto(`http://127.0.0.1:${port}/index.html`);
  const sizes = { layers: 2, dModel: 64, heads: 4, vocab: 64, seqLen: 64, batch: 8, lr: 0.003, steps, backend };
  const result = await page.evaluate(
    (o) => (window as unknown as { benchTfjsTransformer: (x: unknown) => Promise<unknown> }).benchTfjsTransformer(o),
    sizes,
  );
  const record = {
    schema: 'muonlab.tfjs-bench/1',
    createdAt: new Date().toISOString(),
    browser: browser.version(),
    flags: defaultBrowserArgs(),
    sizes,
    result,
  };
  console.log(JSON.stringify(record, null, 2));
  if (jsonOut) writeFileSync(jsonOut, `${JSON.stringify(record, null, 2)}\n`);
} finally {
  await browser.close();
  server.close();
}
