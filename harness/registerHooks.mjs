// Registers TypeScript (tsx) and muonlab's own hooks (harness/loaderHooks.mjs: `?raw` shader imports,
// wgsl_reflect's ES build) in this Node process. Import it first:
//   node --import ./harness/registerHooks.mjs script.ts
import { register } from 'node:module';
import { register as registerTsx } from 'tsx/esm/api';

registerTsx();
register('./loaderHooks.mjs', import.meta.url);
