/**
 * The Node-side cache of kernel variant choices. The page's origin changes with its port, so the
 * browser cannot keep this; here it is keyed by what changes the ranking: the adapter, the browser
 * version, the flags and the kernels' sources (e.g. --enable-dawn-features=disable_robustness speeds up some variants).
 * Location: $MUONLAB_CACHE_DIR, else $XDG_CACHE_HOME/muonlab, else ~/.cache/muonlab.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { VariantSelectionSchema, type VariantSelection } from '../src/experiments/results';
import { writeJsonAtomic } from './files';
import { BUNDLE_INFO } from './bundleInfo';
import { PROJECT_ROOT } from './server';
import type { Session } from './session';

export function cacheDir(): string {
  return process.env.MUONLAB_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'muonlab');
}

/**
 * Digest of what defines the variants: every shader and the kernel families (src/kernels/, with
 * their subfolders). A changed kernel or a new variant must be measured again, not served from an
 * old choice.
 */
export function kernelSourcesDigest(): string {
  if (BUNDLE_INFO) return BUNDLE_INFO.kernelDigest;
  const hash = createHash('sha256');
  const walk = (dir: string): void => {
    for (const entry of readdirSync(join(PROJECT_ROOT, dir), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else {
        hash.update(path);
        hash.update(readFileSync(join(PROJECT_ROOT, path)));
      }
    }
  };
  walk('shaders');
  walk(join('src', 'kernels'));
  return hash.digest('hex').slice(0, 16);
}

export function variantCacheKey(session: Pick<Session, 'env' | 'browserVersion' | 'flags'>): string {
  const a = session.env.adapter;
  const material = JSON.stringify({
    adapter: [a.vendor, a.architecture, a.device, a.description, a.isFallbackAdapter],
    browser: session.browserVersion,
    flags: [...session.flags].sort(),
    kernels: kernelSourcesDigest(),
  });
  return createHash('sha256').update(material).digest('hex').slice(0, 16);
}

function cacheFile(): string {
  return join(cacheDir(), 'variants.json');
}

function readCache(): Record<string, unknown> {
  if (!existsSync(cacheFile())) return {};
  try {
    return JSON.parse(readFileSync(cacheFile(), 'utf8')) as Record<string, unknown>;
  } catch {
    return {}; // a corrupt cache is re-measured, never fatal
  }
}

/**
 * Installs variant choices in the page: from the cache when this configuration was measured before,
 * else by measuring now (and caching). `reselect` forces a new measurement.
 */
export async function applyVariantChoices(
  session: Session,
  options: { reselect?: boolean; log?: (m: string) => void } = {},
): Promise<VariantSelection> {
  const key = variantCacheKey(session);
  const cache = readCache();
  const cached = VariantSelectionSchema.safeParse(cache[key]);
  if (cached.success && !options.reselect) {
    await session.call('setVariantChoices', cached.data.table);
    return { ...cached.data, source: 'cache' };
  }
  options.log?.('choosing kernel variants for this adapter (validation + short warm-up, cached afterwards)…');
  const result = await session.call('selectVariants');
  const selection: VariantSelection = { ...result, source: 'measured', measuredAt: new Date().toISOString() };
  writeJsonAtomic(cacheFile(), { ...cache, [key]: selection });
  return selection;
}
