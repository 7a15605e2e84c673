/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import { playwright } from '@vitest/browser-playwright';
import { chromium } from 'playwright';
import { defaultBrowserArgs, findChromium, INSTALL_ADVICE } from './harness/flags';

// The page (index.html → src/ui/main.ts) and the two vitest projects: `node` (CPU reference,
// schemas, shader reflection — no browser) and `browser` (kernels on the real WebGPU adapter in
// headless Chromium, launched with the same flags as the CLI).
function browserExecutable(): string | undefined {
  let playwrightPath: string | undefined;
  try {
    playwrightPath = chromium.executablePath();
  } catch {
    playwrightPath = undefined;
  }
  const found = findChromium(playwrightPath);
  if (!found && process.env.CI) throw new Error(INSTALL_ADVICE);
  return found?.path;
}

// wgsl_reflect's `main` is CommonJS inside a "type": "module" package: point every importer at its
// ES module build so Node (tests) and the browser (page) load the same file.
const alias = { wgsl_reflect: 'wgsl_reflect/wgsl_reflect.module.js' };

export default defineConfig({
  // Relative asset URLs: the static build (dist/app) works from any folder of any static host.
  base: './',
  resolve: { alias },
  build: {
    outDir: 'dist/app',
    target: 'es2022',
    emptyOutDir: true,
    // One page that carries every kernel and the CPU references: a large chunk is expected.
    chunkSizeWarningLimit: 4096,
    rollupOptions: {
      // zod's sources carry comments in positions Rollup cannot use as annotations; harmless noise.
      onwarn(warning, warn) {
        if (warning.code === 'INVALID_ANNOTATION' && warning.id?.includes('node_modules')) return;
        warn(warning);
      },
    },
  },
  server: { host: '127.0.0.1' },
  test: {
    provide: { ci: Boolean(process.env.CI) },
    projects: [
      {
        resolve: { alias },
        test: {
          name: 'node',
          include: ['test/**/*.node.test.ts'],
          environment: 'node',
          server: { deps: { inline: ['wgsl_reflect'] } },
        },
      },
      {
        resolve: { alias },
        test: {
          name: 'browser',
          include: ['test/**/*.browser.test.ts'],
          provide: { ci: Boolean(process.env.CI) },
          testTimeout: 120_000,
          hookTimeout: 120_000,
          browser: {
            enabled: true,
            headless: true,
            screenshotFailures: false,
            provider: playwright({
              launchOptions: { executablePath: browserExecutable(), args: defaultBrowserArgs() },
            }),
            instances: [{ browser: 'chromium' }],
          },
        },
      },
    ],
  },
});
