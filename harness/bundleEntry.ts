/**
 * The entry of the GPU bundle (harness/gpuBundle.ts): the CLI's `main`, as bin/muonlab.js runs it,
 * without tsx or loader hooks (esbuild has inlined the TypeScript and the WGSL).
 */
import { main } from './cli';

process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});
process.exitCode = await main(process.argv.slice(2));
