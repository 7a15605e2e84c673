/**
 * Every WGSL source of shaders/, by its path under shaders/: the one place the shader text is
 * loaded, for the page, the Node host and the tests alike (`?raw` imports: Vite natively, Node through
 * harness/rawImports.ts, the GPU bundle through esbuild's text loader). Kernels name a file by path
 * (`defineKernel({ shader: 'optimizers/gd.wgsl', … })`) and src/gpu/composeWgsl.ts resolves its
 * `//#import` lines from this table. test/shaderSources.node.test.ts checks it lists exactly the
 * files on disk.
 */
import libFinite from '../../shaders/lib/finite.wgsl?raw';
import libLinearInvocation from '../../shaders/lib/linear_invocation.wgsl?raw';
import libMatmulBindings from '../../shaders/lib/matmul_bindings.wgsl?raw';
import libMatmulBlock8x8 from '../../shaders/lib/matmul_block8x8.wgsl?raw';
import libMatmulBlockedAccess from '../../shaders/lib/matmul_blocked_access.wgsl?raw';
import libMatmulEpilogue from '../../shaders/lib/matmul_epilogue.wgsl?raw';
import libMatmulParams from '../../shaders/lib/matmul_params.wgsl?raw';
import libMatmulSymmetric from '../../shaders/lib/matmul_symmetric.wgsl?raw';
import libMatmulVec4Bindings from '../../shaders/lib/matmul_vec4_bindings.wgsl?raw';
import libPhilox from '../../shaders/lib/philox.wgsl?raw';
import libRunParams from '../../shaders/lib/run_params.wgsl?raw';
import libSoftmaxState from '../../shaders/lib/softmax_state.wgsl?raw';
import libUpdate from '../../shaders/lib/update.wgsl?raw';
import libWorkgroupSum from '../../shaders/lib/workgroup_sum.wgsl?raw';
import fmaPeakFmaPeak from '../../shaders/fmaPeak/fma_peak.wgsl?raw';
import gatherGather from '../../shaders/gather/gather.wgsl?raw';
import matmulMatmul from '../../shaders/matmul/matmul.wgsl?raw';
import matmulMatmulBlocked from '../../shaders/matmul/matmul_blocked.wgsl?raw';
import matmulMatmulBlockedQuad from '../../shaders/matmul/matmul_blocked_quad.wgsl?raw';
import matmulMatmulSubgroup from '../../shaders/matmul/matmul_subgroup.wgsl?raw';
import matmulMatmulTiledVec4 from '../../shaders/matmul/matmul_tiled_vec4.wgsl?raw';
import matmulMatmulVec4 from '../../shaders/matmul/matmul_vec4.wgsl?raw';
import newtonSchulzExactPolar from '../../shaders/newtonSchulz/exact_polar.wgsl?raw';
import newtonSchulzNewtonSchulz from '../../shaders/newtonSchulz/newton_schulz.wgsl?raw';
import optimizersAdam from '../../shaders/optimizers/adam.wgsl?raw';
import optimizersDirection from '../../shaders/optimizers/direction.wgsl?raw';
import optimizersGd from '../../shaders/optimizers/gd.wgsl?raw';
import optimizersMuon from '../../shaders/optimizers/muon.wgsl?raw';
import optimizersMuonReg from '../../shaders/optimizers/muon_reg.wgsl?raw';
import optimizersSigngd from '../../shaders/optimizers/signgd.wgsl?raw';
import philoxPhiloxFill from '../../shaders/philox/philox_fill.wgsl?raw';
import reduceReduce from '../../shaders/reduce/reduce.wgsl?raw';
import softmaxGradBlock3Transform from '../../shaders/softmaxGrad/block3_transform.wgsl?raw';
import softmaxGradChunkUpdate from '../../shaders/softmaxGrad/chunk_update.wgsl?raw';
import softmaxGradFinalize from '../../shaders/softmaxGrad/finalize.wgsl?raw';
import softmaxGradIdentity from '../../shaders/softmaxGrad/identity.wgsl?raw';
import softmaxGradStaged from '../../shaders/softmaxGrad/staged.wgsl?raw';
import taskEmbeddings from '../../shaders/task/embeddings.wgsl?raw';
import taskSampling from '../../shaders/task/sampling.wgsl?raw';
import transformerActivation from '../../shaders/transformer/activation.wgsl?raw';
import transformerAttention from '../../shaders/transformer/attention.wgsl?raw';
import transformerEmbed from '../../shaders/transformer/embed.wgsl?raw';
import transformerGradClip from '../../shaders/transformer/grad_clip.wgsl?raw';
import transformerLmHead from '../../shaders/transformer/lm_head.wgsl?raw';
import transformerRmsnorm from '../../shaders/transformer/rmsnorm.wgsl?raw';
import trainAdvanceRuns from '../../shaders/train/advance_runs.wgsl?raw';
import trainFreezeNonfinite from '../../shaders/train/freeze_nonfinite.wgsl?raw';

export const SHADER_SOURCES: Readonly<Record<string, string>> = {
  'lib/finite.wgsl': libFinite,
  'lib/linear_invocation.wgsl': libLinearInvocation,
  'lib/matmul_bindings.wgsl': libMatmulBindings,
  'lib/matmul_block8x8.wgsl': libMatmulBlock8x8,
  'lib/matmul_blocked_access.wgsl': libMatmulBlockedAccess,
  'lib/matmul_epilogue.wgsl': libMatmulEpilogue,
  'lib/matmul_params.wgsl': libMatmulParams,
  'lib/matmul_symmetric.wgsl': libMatmulSymmetric,
  'lib/matmul_vec4_bindings.wgsl': libMatmulVec4Bindings,
  'lib/philox.wgsl': libPhilox,
  'lib/run_params.wgsl': libRunParams,
  'lib/softmax_state.wgsl': libSoftmaxState,
  'lib/update.wgsl': libUpdate,
  'lib/workgroup_sum.wgsl': libWorkgroupSum,
  'fmaPeak/fma_peak.wgsl': fmaPeakFmaPeak,
  'gather/gather.wgsl': gatherGather,
  'matmul/matmul.wgsl': matmulMatmul,
  'matmul/matmul_blocked.wgsl': matmulMatmulBlocked,
  'matmul/matmul_blocked_quad.wgsl': matmulMatmulBlockedQuad,
  'matmul/matmul_subgroup.wgsl': matmulMatmulSubgroup,
  'matmul/matmul_tiled_vec4.wgsl': matmulMatmulTiledVec4,
  'matmul/matmul_vec4.wgsl': matmulMatmulVec4,
  'newtonSchulz/exact_polar.wgsl': newtonSchulzExactPolar,
  'newtonSchulz/newton_schulz.wgsl': newtonSchulzNewtonSchulz,
  'optimizers/adam.wgsl': optimizersAdam,
  'optimizers/direction.wgsl': optimizersDirection,
  'optimizers/gd.wgsl': optimizersGd,
  'optimizers/muon.wgsl': optimizersMuon,
  'optimizers/muon_reg.wgsl': optimizersMuonReg,
  'optimizers/signgd.wgsl': optimizersSigngd,
  'philox/philox_fill.wgsl': philoxPhiloxFill,
  'reduce/reduce.wgsl': reduceReduce,
  'softmaxGrad/block3_transform.wgsl': softmaxGradBlock3Transform,
  'softmaxGrad/chunk_update.wgsl': softmaxGradChunkUpdate,
  'softmaxGrad/finalize.wgsl': softmaxGradFinalize,
  'softmaxGrad/identity.wgsl': softmaxGradIdentity,
  'softmaxGrad/staged.wgsl': softmaxGradStaged,
  'task/embeddings.wgsl': taskEmbeddings,
  'task/sampling.wgsl': taskSampling,
  'transformer/activation.wgsl': transformerActivation,
  'transformer/attention.wgsl': transformerAttention,
  'transformer/embed.wgsl': transformerEmbed,
  'transformer/grad_clip.wgsl': transformerGradClip,
  'transformer/lm_head.wgsl': transformerLmHead,
  'transformer/rmsnorm.wgsl': transformerRmsnorm,
  'train/advance_runs.wgsl': trainAdvanceRuns,
  'train/freeze_nonfinite.wgsl': trainFreezeNonfinite,
};
