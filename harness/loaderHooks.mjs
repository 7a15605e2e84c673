// Node module hooks that let plain Node (the CLI, the Node host, scripts) import src/ the way Vite
// does for the page and the tests:
//   - `import text from '../../shaders/x.wgsl?raw'` yields the file's text (src/gpu/shaderSources.ts);
//   - `wgsl_reflect` resolves to its ES module build (its package "main" is CommonJS inside a
//     "type": "module" package, which Node cannot load as ESM).
// Registered by harness/registerHooks.mjs before any src/ module is imported.
import { readFile } from 'node:fs/promises';

export async function resolve(specifier, context, nextResolve) {
  if (specifier === 'wgsl_reflect') return nextResolve('wgsl_reflect/wgsl_reflect.module.js', context);
  if (specifier.endsWith('?raw')) {
    const resolved = await nextResolve(specifier.slice(0, -'?raw'.length), context);
    return { url: `${resolved.url}?raw`, shortCircuit: true };
  }
  return nextResolve(specifier, context);
}

export async function load(url, context, nextLoad) {
  if (url.endsWith('?raw')) {
    const text = await readFile(new URL(url.slice(0, -'?raw'.length)), 'utf8');
    return { format: 'module', source: `export default ${JSON.stringify(text)};`, shortCircuit: true };
  }
  return nextLoad(url, context);
}
