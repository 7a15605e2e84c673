/* global tf */
// The transformer of docs/transformer.md §2 (decoder-only, pre-norm, RMSNorm without gain, causal
// multi-head attention, ReLU² MLP, untied head, no biases) in TensorFlow.js, trained with
// tf.variableGrads (autodiff) and Adam on TF.js's WebGPU backend: the peer muonlab's tokens/s is
// compared with (bench/README.md). Same sizes and data shape as bench/transformer-ci*.json; the
// tokens are uniform random (throughput does not depend on them).
window.benchTfjsTransformer = async function benchTfjsTransformer(o) {
  await tf.setBackend(o.backend);
  await tf.ready();
  const { layers: L, dModel: d, heads: H, vocab: V, seqLen: T, batch: B } = o;
  const dh = d / H;
  const hid = 4 * d;
  const normal = (rows, cols, std) => tf.variable(tf.randomNormal([rows, cols], 0, std, 'float32', 1));
  const res = 1 / Math.sqrt(2 * L);
  const P = { embed: normal(V, d, 1), pos: normal(T, d, 1), head: normal(V, d, 1 / Math.sqrt(d)), layers: [] };
  for (let l = 0; l < L; l++) {
    P.layers.push({
      q: normal(d, d, 1 / Math.sqrt(d)),
      k: normal(d, d, 1 / Math.sqrt(d)),
      v: normal(d, d, 1 / Math.sqrt(d)),
      o: normal(d, d, res / Math.sqrt(d)),
      in: normal(hid, d, 1 / Math.sqrt(d)),
      out: normal(d, hid, res / Math.sqrt(hid)),
    });
  }
  // Functional ops throughout (they need no chained-op registration).
  const rmsnorm = (x) => tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), 1e-6)));
  const linear = (x, W) => tf.matMul(x, W, false, true);
  const mask = tf.mul(tf.sub(tf.linalg.bandPart(tf.ones([T, T]), -1, 0), 1), 1e9); // 0 on/below the diagonal, −1e9 above
  const heads = (x) => tf.transpose(tf.reshape(x, [B, T, H, dh]), [0, 2, 1, 3]);
  const loss = (tokens, targets) => {
    let x = tf.add(tf.gather(P.embed, tf.reshape(tokens, [B * T])), tf.tile(P.pos, [B, 1]));
    for (const W of P.layers) {
      const n = rmsnorm(x);
      const s = tf.add(tf.mul(tf.matMul(heads(linear(n, W.q)), heads(linear(n, W.k)), false, true), 1 / Math.sqrt(dh)), mask);
      const att = tf.reshape(tf.transpose(tf.matMul(tf.softmax(s), heads(linear(n, W.v))), [0, 2, 1, 3]), [B * T, d]);
      x = tf.add(x, linear(att, W.o));
      x = tf.add(x, linear(tf.square(tf.relu(linear(rmsnorm(x), W.in))), W.out));
    }
    const logits = linear(rmsnorm(x), P.head);
    return tf.losses.softmaxCrossEntropy(tf.oneHot(tf.reshape(targets, [B * T]), V), logits);
  };
  const optimizer = tf.train.adam(o.lr);
  const batch = (k) => {
    const t = tf.randomUniform([B, T + 1], 0, V, 'int32', 1000 + k);
    return [tf.slice(t, [0, 0], [B, T]), tf.slice(t, [0, 1], [B, T])];
  };
  const step = async (k) => {
    const [tokens, targets] = batch(k);
    const value = optimizer.minimize(() => loss(tokens, targets), true);
    const out = (await value.data())[0];
    tf.dispose([tokens, targets, value]);
    return out;
  };
  const first = await step(0); // warm-up: shader compilation
  const start = performance.now();
  let last = first;
  for (let k = 1; k <= o.steps; k++) last = await step(k);
  const seconds = (performance.now() - start) / 1000;
  return {
    backend: tf.getBackend(),
    steps: o.steps,
    seconds,
    tokensPerSecond: (o.steps * B * T) / seconds,
    firstLoss: first,
    lastLoss: last,
    numTensors: tf.memory().numTensors,
  };
};
