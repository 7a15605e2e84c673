/**
 * What each preset is and checks, without its code: Node-safe (no shader imports), so the CLI can
 * list presets, validate names and plan scales before a browser exists.
 */
import type { PresetInfo } from './types';

export const PRESET_CATALOG = {
  'b-balance-onestep': {
    name: 'b-balance-onestep',
    title: 'Balance after one step: GD vs SignGD vs Muon vs Adam on head/tail items',
    paper: '[B] Wang et al., Muon Outperforms Adam in Tail-End Associative Memory Learning (arXiv 2509.26030), §5',
    predictions: [
      "GD's ϱ_τ equals the closed form x/(x+N−1) and is the same for identity and coupled-rotation embeddings",
      "Muon's ϱ_τ ≥ 1 − τ(1 + 2 ln N/N) on both embeddings",
      'SignGD ≈ Muon on identity; SignGD collapses (ϱ_0.1 < 0.5) on coupled-rotation',
      'Adam with β1 = β2 = 0, ε = 1e-12 matches SignGD',
    ],
    scales: {
      ci: { sizes: 'N = d = 300, 60 head items', estimate: '≈ 20 s on SwiftShader' },
      quick: { sizes: 'N = d = 600, 120 head items', estimate: 'a few minutes on SwiftShader' },
      full: { sizes: "N = d = 999, 201 head items ([B]'s size)", estimate: 'minutes on a GPU' },
  },
  },
  'c-capacity-onestep': {
    name: 'c-capacity-onestep',
    title: 'Storage capacity after one step: Muon ≈ d^{1+1/(2a)} vs GD ≈ d^{1/(2a)}',
    paper: '[C] Kim, Nichani, Wu, Bietti, Lee, Sharp Capacity Scaling of Spectral Optimizers in Learning Associative Memory (arXiv 2603.26554), Fig. 2',
    predictions: [
      "Muon's recovered-item count grows as d^{1+1/(2a)}",
      "GD's grows as d^{1/(2a)} (derived from the model)",
      'Muon recovers more items than GD at every d',
      'Exponents across a follow c1 + c2/a: Muon ≈ (1, 1/2), GD ≈ (0, 1/2)',
    ],
    scales: {
      ci: { sizes: 'N = 4096, d ∈ {64, 128, 256}, a = 1.5, 4 task seeds', estimate: '≈ 2–3 min on SwiftShader' },
      quick: { sizes: 'N = 4096, d ∈ {64, 128, 256}, a ∈ {1.25, 1.5, 2}, 2 task seeds', estimate: '≈ 4–6 min on SwiftShader' },
      full: { sizes: 'N = 100,000, d ∈ {64 … 1024}, a ∈ {1.25 … 3}, 16 repeats ([C] Fig. 2)', estimate: 'hours on a GPU; not for CPU adapters' },
  },
  },
  'c-critical-batch': {
    name: 'c-critical-batch',
    title: "Critical batch size of one minibatch step: Muon's ≈ d^{a+1/2} vs SGD's ≈ √d",
    paper: '[C] Kim, Nichani, Wu, Bietti, Lee, Sharp Capacity Scaling of Spectral Optimizers in Learning Associative Memory (arXiv 2603.26554), Fig. 3',
    predictions: [
      'One step with minibatch B recovers ≈ min(d^{1+1/(2a)}, B^{1/a}) items with Muon',
      "Muon's critical batch (where capacity saturates) grows as d^{a+1/2}",
      "SGD's critical batch grows as √d, far below Muon's",
    ],
    scales: {
      ci: { sizes: 'N = 2048, a = 1.5, d ∈ {32, 64, 128}, B = 2 … 2^14, 1 task seed, top 512 items evaluated', estimate: '≈ 30–50 s on SwiftShader (measured 29–38 s; 51 s on a heavily loaded machine)' },
      quick: { sizes: 'N = 4096, a = 1.5, d ∈ {64, 128, 256}, B = 2 … 2^16, 2 task seeds, top 1024 items evaluated', estimate: '≈ 7–11 min on SwiftShader (measured 444 s; 662 s on a heavily loaded machine)' },
      full: { sizes: 'N = 100,000, a = 1.5, d ∈ {64 … 1024}, B = 2 … 2^22, 16 repeats, top 16,384 items ([C] Fig. 3)', estimate: 'hours on a GPU (the Float64 SVDs at d = 1024 run on the CPU); not for CPU adapters' },
    },
  },
  'c-multistep': {
    name: 'c-multistep',
    title: 'Capacity after t population steps of Muon (η = 2√d): d^{2 − (1 − 1/(2a))^t}',
    paper: '[C] Kim, Nichani, Wu, Bietti, Lee, Sharp Capacity Scaling of Spectral Optimizers in Learning Associative Memory (arXiv 2603.26554), Fig. 4',
    predictions: [
      "Muon's recovered-item count after t steps grows as d^{2 − (1 − 1/(2a))^t}, t = 1 … 4",
      'Long runs (stopped when capacity gains < 0.5% over 10 steps) approach d²',
      'The paper sees deviations at small a and large t: reported, not hidden',
    ],
    scales: {
      ci: { sizes: 'N = 2048, a = 1.5, d ∈ {32, 64, 128}, t ≤ 4; long run (≤ 40 steps) at d = 32', estimate: '≈ 1 min on SwiftShader (measured 59–61 s on a loaded machine)' },
      quick: { sizes: 'N = 4096, a = 1.5, d ∈ {64, 128, 256}, t ≤ 4; long runs (≤ 100 steps) at d ∈ {64, 128}; scheduler GPU-f32 series at d ∈ {64, 128}', estimate: '≈ 7 min on SwiftShader (measured 402 s, plus page build and variant timing)' },
      full: { sizes: 'N = 250,000, a ∈ {1.25, 1.5, 2}, d ∈ {64 … 512}, 4 seeds, long runs ≤ 500 steps ([C] Fig. 4)', estimate: 'many hours on a GPU; not for CPU adapters' },
    },
  },
  'a-noiseless': {
    name: 'a-noiseless',
    title: 'Noiseless training on identity embeddings: Muon ≈ N·e^{−ηt} in every group, GD ≈ N/(ηt) with lagging tail groups',
    paper: '[A] Li, Wang, Zhong, Lu, Wang, Muon in Associative Memory Learning: Training Dynamics and Scaling Laws (arXiv 2602.05725)',
    predictions: [
      "Muon (exact): loss ≈ N·e^{−ηt} over 1e-4 ≤ L ≤ 0.1, every frequency group at the same rate",
      "GD with η = 0.5/p_max: loss ≈ N/(ηt); group g's loss ≈ 1/(η·p_g·t), so the tail lags the head by M^b",
      'TRA-SignGD with step η ≈ Muon with 2η',
    ],
    scales: {
      ci: { sizes: 'N = 256, M = 4 groups (C/M = 16), b = 1; Muon 16 steps, TRA-SignGD 11, GD 1000', estimate: '≈ 50–65 s on SwiftShader (measured)' },
      quick: { sizes: 'N = 512, M = 4 (C/M = 32), b = 1.5; Muon 17 steps, TRA-SignGD 14, GD 2000', estimate: '≈ 3–5 min on SwiftShader (measured 159–280 s)' },
      full: { sizes: 'N = 1024, M = 8 (C/M = 16), b = 2; Muon 18 steps, TRA-SignGD 18, GD 20,000', estimate: 'minutes on a GPU (not measured); ≈ 10 s per Muon step on SwiftShader' },
    },
  },
  'c-minibatch': {
    name: 'c-minibatch',
    title: 'Minibatch Muon and the sample limit (B·t)^{1/a}; GD with a rising step size vs Muon',
    paper: '[C] Kim, Nichani, Wu, Bietti, Lee, Sharp Capacity Scaling of Spectral Optimizers in Learning Associative Memory (arXiv 2603.26554), Fig. 5',
    predictions: [
      'With fresh minibatches Muon recovers at most the (B·t)^{1/a} distinct items it has seen (up to chance wins, ≈ 1/N per unseen item)',
      'Distinct items seen grow as (B·t)^{1/a}',
      'Population Muon (η = √d) recovers more items than GD rising from η_1 = 0.01√d',
    ],
    scales: {
      ci: { sizes: 'N = 2048, d = 64, a = 1.5, 4 population steps, minibatch B ∈ {4, 16, 64} × 20 steps (evaluated at 9 steps), top 512 items', estimate: '≈ 1 min on SwiftShader (measured 52–63 s on a loaded machine)' },
      quick: { sizes: 'N = 4096, d = 64, a = 1.5, 20 population steps, B ∈ {4, 16, 64, 256} × 20 steps, 1 task seed, top 1024 items', estimate: '≈ 3–8 min on SwiftShader (measured 165–472 s, depending on load)' },
      full: { sizes: 'N = 100,000, d = 256, a = 1.5, 20 steps, B ∈ {16 … 4096}, 4 seeds, top 16,384 items ([C] Fig. 5)', estimate: 'an hour or more on a GPU; not for CPU adapters' },
    },
  },
  'b-balance-multistep': {
    name: 'b-balance-multistep',
    title: 'Balance along training: multi-step Muon stays balanced, GD does not, SignGD only on identity',
    paper: '[B] Wang et al., Muon Outperforms Adam in Tail-End Associative Memory Learning (arXiv 2509.26030), §5',
    predictions: [
      "Muon's ϱ_τ along training ≥ 1 − τ(1 + 2 ln N/N), the same on identity and coupled-rotation",
      "GD's ϱ_τ along training equals its Float64 per-item recurrence (poor, same for both embeddings)",
      'SignGD: Δ = 0 on identity; less balanced than Muon on coupled-rotation; Adam reported',
    ],
    scales: {
      ci: { sizes: 'N = d = 150, 30 head items, 13 steps, GD / SignGD / Muon exact / Adam × 2 embeddings', estimate: '≈ 35 s on SwiftShader (measured)' },
      quick: { sizes: 'N = d = 300, 60 head items, 16 steps', estimate: '≈ 1.5 min on SwiftShader (measured 96 s)' },
      full: { sizes: "N = d = 999, 201 head items ([B]'s size), 24 steps", estimate: 'minutes on a GPU' },
    },
  },
  'b-isotropy': {
    name: 'b-isotropy',
    title: 'Spectral isotropy of W and of the update along training, per optimizer and step size',
    paper: '[B] Wang et al., Muon Outperforms Adam in Tail-End Associative Memory Learning (arXiv 2509.26030), §4.2',
    predictions: [
      "Muon's update is isotropic: every nonzero σ = 1 (eRank = N − 1, Q75/25 = 1) at every step, η and embedding",
      "GD's first update is not: its isotropy equals that of Ẽ(11ᵀ/N − I)diag(p)Eᵀ",
      "SignGD's first update on coupled-rotation: 3×3 block σ_min/σ_max ≈ 0.247, whole update ≈ 0.001 at N = 999 (∝ 1/N)",
      "Muon's weights end more isotropic (higher eRank) than GD's",
    ],
    scales: {
      ci: { sizes: 'N = d = 150, 30 head items, 6 steps, 4 optimizers × 3 step sizes × 2 embeddings, isotropy every 2 steps', estimate: '≈ 1 min on SwiftShader (measured)' },
      quick: { sizes: 'N = d = 300, 60 head items, 12 steps, 4 optimizers × 3 step sizes × 2 embeddings', estimate: '≈ 5 min on SwiftShader (measured 281 s)' },
      full: { sizes: "N = d = 999, 201 head items ([B]'s size), 24 steps, 5 step sizes, isotropy every 4 steps", estimate: 'an hour or more: ≈ 560 Float64 SVDs of 999 × 999 run on the CPU (GPU time is minutes)' },
    },
  },
  'a-noisy-scaling': {
    name: 'a-noisy-scaling',
    title: 'Label noise: excess loss ∝ T^−2 for Muon (η = Θ(ln N/T)) vs T^−(1−1/b) for the best GD',
    paper: '[A] Li, Wang, Zhong, Lu, Wang, Muon in Associative Memory Learning: Training Dynamics and Scaling Laws (arXiv 2602.05725)',
    predictions: [
      "Muon's excess loss over the label entropy after T steps ∝ T^−2 with η = 2·ln N/T",
      "The best GD's (over an η grid) ∝ T^−(1−1/b) — needs many groups and C ≫ M: checked at full scale only, on a GPU",
      "Muon's excess is below the best GD's at every T (full scale; with few groups a tuned GD overtakes Muon at long horizons — reported at ci/quick, not checked)",
    ],
    scales: {
      ci: { sizes: "reduced: N = 64, M = 4, b = 2, ε = 0.1, T ∈ {16 … 64}; checks Muon's T^−2 law only; GD's law and Muon < GD are reported, not checked (no honest small scale, docs/math.md §4)", estimate: '≈ 25 s on SwiftShader (measured)' },
      quick: { sizes: 'reduced: N = 256, M = 4, b = 2, ε = 0.1, T ∈ {16 … 90}; same checks as ci', estimate: '≈ 3–4 min on SwiftShader (measured 193–225 s)' },
      full: { sizes: 'N = 4096, M = 16 (C/M = 16), b = 2, ε = 0.1, T ∈ {32 … 1024}, GD η ∈ {0.25 … 8}/p_max; checks both laws', estimate: 'GPU only (refuses to start on a CPU/fallback adapter); ≈ 3,300 Muon steps at N = 4096, roughly an hour on a GPU (not measured)' },
    },
  },
} satisfies Record<string, PresetInfo>;

export type PresetName = keyof typeof PRESET_CATALOG;
export const PRESET_NAMES = Object.keys(PRESET_CATALOG) as PresetName[];
