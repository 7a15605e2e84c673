import { test } from 'vitest';
import { benchMatmul } from '../src/kernels/matmulBench';
import { acquireGpu } from './gpuFixture';

const env = (import.meta as any).env ?? {};
test('scratch bench', async () => {
  const gpu = await acquireGpu();
  console.log('subgroups', gpu.hasSubgroups, gpu.adapterInfo.subgroupMinSize, gpu.adapterInfo.subgroupMaxSize, gpu.features.join(','));
  const variants = (globalThis as any).__V ?? undefined;
  const rows = await benchMatmul(gpu, { runs: 5, variants, shapes: undefined, onProgress: (m) => console.log(m) });
  console.log('\n' + rows.map((r) => `${r.variant.padEnd(28)} ${r.shape.padEnd(18)} med ${r.medianMs.toFixed(2).padStart(9)} min ${r.minMs.toFixed(2).padStart(9)} first ${r.firstRunMs.toFixed(0).padStart(6)} ${r.gflops.toFixed(2).padStart(6)} GF/s runs ${r.runs}${r.chosen ? ' *' : ''} ${r.note ?? ''}`).join('\n'));
}, 1_800_000);
