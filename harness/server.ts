/**
 * Builds the page with Vite (only when its sources changed) and serves dist/app on 127.0.0.1 at a
 * free port. WebGPU needs a secure context: http://127.0.0.1 is one, about:blank and file:// are not.
 */
import { createReadStream, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const APP_DIR = join(PROJECT_ROOT, 'dist', 'app');
const STAMP = join(APP_DIR, '.sources-mtime');
const SOURCES = ['index.html', 'vite.config.ts', 'package.json', 'src', 'shaders'];

function newestMtime(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/** Runs `vite build` unless dist/app is newer than every source file. */
export async function ensureAppBuilt(log: (message: string) => void = () => {}): Promise<string> {
  const sourcesMtime = Math.max(...SOURCES.map((s) => join(PROJECT_ROOT, s)).filter(existsSync).map(newestMtime));
  if (existsSync(STAMP) && Number(readFileSync(STAMP, 'utf8')) >= sourcesMtime) return APP_DIR;
  log('building the page (vite build)…');
  const { build } = await import('vite');
  await build({ root: PROJECT_ROOT, configFile: join(PROJECT_ROOT, 'vite.config.ts'), logLevel: 'warn', mode: 'production' });
  writeFileSync(STAMP, String(sourcesMtime));
  return APP_DIR;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
};

export interface StaticServer {
  url: string;
  close(): Promise<void>;
}

/** Serves a folder read-only on 127.0.0.1 at a free port (port 0 → the OS picks). */
export async function serveStatic(dir: string): Promise<StaticServer> {
  const root = resolve(dir);
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    let file = normalize(join(root, path));
    if (!file.startsWith(root)) {
      res.writeHead(403).end();
      return;
    }
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!existsSync(file)) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', ok);
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('static server has no port');
  return {
    url: `http://127.0.0.1:${address.port}/`,
    close: () => new Promise((ok) => server.close(() => ok())),
  };
}
