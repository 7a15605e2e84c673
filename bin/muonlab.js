#!/usr/bin/env node
// Entry of the `muonlab` command (package.json "bin"): runs the TypeScript CLI directly through
// tsx, so `npx muonlab` works right after `npm ci` with no build step. harness/registerHooks.mjs
// also lets Node import src/ as Vite does (`?raw` shader sources, wgsl_reflect's ES build).
import '../harness/registerHooks.mjs';

// `muonlab presets | head` closes the pipe early: that is not an error worth a stack trace.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});
const { main } = await import('../harness/cli.ts');
process.exitCode = await main(process.argv.slice(2));
