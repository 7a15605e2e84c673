/**
 * Builds the page with Vite (only when its sources changed) and serves dist/app on 127.0.0.1 at a
 * free port. WebGPU needs a secure context: http://127.0.0.1 is one, about:blank and file:// are not.
 */
import { createReadStream, existsSync, readdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
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
  const sourcesMtime = Math.max(
    ...SOURCES.map((s) => join(PROJECT_ROOT, s))
      .filter(existsSync)
      .map(newestMtime),
  );
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

/**
 * The file a request path names inside `root` (both real paths: symlinks resolved), or why not.
 * Containment compares real paths with a trailing separator, so neither `..%2f`, a sibling folder
 * whose name starts with root's (`app-private` beside `app`), nor a symlink pointing out escapes.
 *
 * @example
 * resolveRequest('/srv/app', '/assets/index.js'); // { file: '/srv/app/assets/index.js' }
 * resolveRequest('/srv/app', '/%E0%A4%A'); // { status: 400 }
 */
export function resolveRequest(root: string, url: string): { file: string } | { status: 400 | 403 | 404 } {
  let path: string;
  try {
    path = decodeURIComponent(new URL(url, 'http://x').pathname);
  } catch {
    return { status: 400 }; // malformed percent-encoding (URIError) or URL
  }
  if (path.includes('\0')) return { status: 400 };
  const realRoot = realpathSync(root);
  const inside = (p: string) => p === realRoot || p.startsWith(realRoot.endsWith(sep) ? realRoot : realRoot + sep);
  let file = resolve(realRoot, `.${path.startsWith('/') ? path : `/${path}`}`);
  if (!inside(file)) return { status: 403 };
  if (!existsSync(file)) return { status: 404 };
  try {
    file = realpathSync(file);
    if (!inside(file)) return { status: 403 };
    if (statSync(file).isDirectory()) {
      file = realpathSync(join(file, 'index.html'));
      if (!inside(file)) return { status: 403 };
    }
  } catch {
    return { status: 404 };
  }
  return { file };
}

function handle(root: string, req: IncomingMessage, res: ServerResponse): void {
  const target = resolveRequest(root, req.url ?? '/');
  if ('status' in target) {
    res
      .writeHead(target.status, { 'content-type': 'text/plain; charset=utf-8' })
      .end(target.status === 400 ? 'bad request' : target.status === 403 ? 'forbidden' : 'not found');
    return;
  }
  const stream = createReadStream(target.file);
  // A file that vanishes or cannot be read answers 404/500 instead of taking the server down.
  stream.once('error', () => {
    if (!res.headersSent) res.writeHead(404).end('not found');
    else res.destroy();
  });
  stream.once('open', () => {
    res.writeHead(200, { 'content-type': MIME[extname(target.file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    stream.pipe(res);
  });
}

/** Serves a folder read-only on 127.0.0.1 at a free port (port 0 → the OS picks). */
export async function serveStatic(dir: string): Promise<StaticServer> {
  const root = resolve(dir);
  const server: Server = createServer((req, res) => {
    try {
      handle(root, req, res);
    } catch {
      // Nothing a request does may end the server (it also serves the page during CLI runs).
      if (!res.headersSent) res.writeHead(500).end('internal error');
      else res.destroy();
    }
  });
  server.on('clientError', (_err, socket) => socket.destroy());
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
