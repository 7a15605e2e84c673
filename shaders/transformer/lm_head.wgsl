// The LM head's second pass (src/model/lmHead.ts): the fused softmax cross-entropy of
// shaders/softmaxGrad/ (chunk_update, finalize) gives each position's lse, loss, correct flag and
// dL/dh; the head's own gradient dW = Gᵀ·h needs G = w·(softmax − onehot) chunk by chunk, so the
// chunk's logits are recomputed (a matmul into the same [R, chunk, tokens] scratch) and turned into G
// here, in place. No tokens×V buffer exists: the scratch holds one vocabulary chunk.

//#import lib/softmax_state.wgsl
//#import lib/linear_invocation.wgsl

struct HeadGradParams {
  replicas: u32,
  tokens: u32,
  chunkCols: u32,
  chunkBase: u32,
  scratchBatch: u32,
}

@group(0) @binding(0) var<storage, read_write> hg_scratch: array<f32>;
@group(0) @binding(1) var<storage, read> hg_outputs: array<f32>;
@group(0) @binding(2) var<storage, read> hg_targets: array<u32>;
@group(0) @binding(3) var<storage, read> hg_weights: array<f32>;
@group(0) @binding(4) var<uniform> hg: HeadGradParams;

// One invocation per (replica, chunk row c, token n); scratch[r, c, n] = z (the logit of token
// chunkBase + c at position n) on entry, w_n·(e^{z − lse_n} − [chunkBase + c = y_n]) on exit.
@compute @workgroup_size(64, 1, 1)
fn lm_head_grad_probs(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let e = linear_invocation(gid, groups);
  let N = hg.tokens;
  if (e >= hg.replicas * hg.chunkCols * N) {
    return;
  }
  let n = e % N;
  let c = (e / N) % hg.chunkCols;
  let r = e / (N * hg.chunkCols);
  let rn = r * N + n;
  let at = r * hg.scratchBatch + c * N + n;
  let lse = hg_outputs[rn * OUT_STRIDE + OUT_LSE];
  let onehot = select(0.0, 1.0, hg_targets[rn] == hg.chunkBase + c);
  hg_scratch[at] = hg_weights[rn] * (exp(hg_scratch[at] - lse) - onehot);
}
