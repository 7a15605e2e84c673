// Both hosts run the same training steps: the browser host (the page in headless Chromium) and the
// Node host (Dawn in Node through the `webgpu` package) train one small sweep cell — gd with
// momentum, adam and muon ns5, 3 minibatch steps, every step evaluated — and their metric records
// agree within the f32 tolerance of the loss. (Each host's kernels are checked against the Float64
// twins separately: the *.browser.test.ts files on the browser host, test/gpuCheck.node.test.ts's
// full `muonlab check` on the Node host.)
//
// Tolerance: both hosts run the same WGSL through two builds of Dawn/Tint on the same SwiftShader, so
// the only differences are how each compiler orders f32 operations (fma contraction, reassociation
// inside a dot product). Per step the loss is within (N + d)·u relative of exact on either host
// (N-long log-sum-exp plus d-long logits; test/validate.browser.test.ts derives it); the weights
// carry the previous steps' differences, each step's update being within ~(N + d)·u of its exact
// value too. Over S steps the two hosts' losses differ by at most 2·S·(N + d)·u relative (both
// sides, every step). Bit-identical results pass trivially; a host that ran different kernels
// (another schedule, a missing step) moves the loss by far more than this bound.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openNodeSession } from '../harness/nodeHost';
import { openSession, type Session } from '../harness/session';
import type { ExperimentConfigInput } from '../src/experiments/config';
import type { TrainMetricsRecord } from '../src/train/records';
import { F32_UNIT_ROUNDOFF as u } from '../src/cpu/compare';

const N = 48;
const d = 16;
const S = 3;

const CONFIG: ExperimentConfigInput = {
  name: 'hosts',
  task: { N, dIn: d, dOut: d, embedding: 'gaussian', frequency: { kind: 'power', powerExponent: 1.5 }, taskSeed: 3 },
  optimizers: [
    { name: 'gd', lr: 4, momentum: 0.9 },
    { name: 'adam', lr: 0.05 },
    { name: 'muon', lr: 0.5, orth: 'ns5', momentum: 0.5 },
  ],
  training: { mode: 'minibatch', batchSize: 32, steps: S, runSeeds: [0, 1] },
  metrics: { every: 1 },
};

interface HostRun {
  records: TrainMetricsRecord[];
  adapter: string;
}

async function trainOn(open: typeof openSession): Promise<HostRun> {
  const records: TrainMetricsRecord[] = [];
  const session: Session = await open({ onRecord: (_cell, r) => records.push(r) });
  try {
    await session.call('runCell', CONFIG, 'single');
    return { records, adapter: `${session.host}: ${session.env.adapter.vendor} / ${session.env.adapter.architecture}` };
  } finally {
    await session.close();
  }
}

let browser: HostRun;
let node: HostRun;

beforeAll(async () => {
  browser = await trainOn(openSession);
  node = await trainOn(openNodeSession);
}, 300_000);

afterAll(() => {
  console.log(`[hosts] ${browser?.adapter} | ${node?.adapter}`);
});

describe('browser host and Node host train alike', () => {
  test('the same records: every (run, step), losses within 2·S·(N + d)·u relative', () => {
    const key = (r: TrainMetricsRecord) => `${r.run}:${r.step}`;
    expect(node.records.map(key).sort()).toEqual(browser.records.map(key).sort());
    expect(browser.records.length).toBe(3 * 2 * (S + 1)); // 3 optimizers × 2 seeds × steps 0..S
    const byKey = new Map(node.records.map((r) => [key(r), r]));
    const bound = 2 * S * (N + d) * u;
    let worst = 0;
    for (const b of browser.records) {
      const n = byKey.get(key(b))!;
      expect(Number.isFinite(b.loss) && Number.isFinite(n.loss), key(b)).toBe(true);
      const rel = Math.abs(n.loss - b.loss) / Math.abs(b.loss);
      worst = Math.max(worst, rel);
      expect(rel, `${key(b)}: browser ${b.loss}, node ${n.loss}`).toBeLessThanOrEqual(bound);
    }
    console.log(`[hosts] largest relative loss difference ${worst.toExponential(2)} (bound ${bound.toExponential(2)})`);
  });

  test('training moved the loss (a run that did nothing would agree trivially)', () => {
    const first = browser.records.filter((r) => r.step === 0);
    const last = browser.records.filter((r) => r.step === S);
    for (const l of last) {
      const f = first.find((x) => x.run === l.run)!;
      expect(Math.abs(l.loss - f.loss) / f.loss, `run ${l.run}`).toBeGreaterThan(1e-3);
    }
  });
});
