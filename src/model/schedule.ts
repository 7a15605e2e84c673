/**
 * Per-group learning-rate schedules of the transformer (issue 12): linear warm-up over `warmup`
 * steps, then constant, linear or cosine decay to `final`·η at the last step. GPU-free: the trainer
 * writes η_t into the run-parameters buffer before each step and the CPU twin uses the same factor.
 */

export const DECAY_KINDS = ['constant', 'linear', 'cosine'] as const;
export type DecayKind = (typeof DECAY_KINDS)[number];

export interface GroupSchedule {
  warmup: number;
  decay: DecayKind;
  /** η at the last step ÷ η (decay only). */
  final: number;
}

/**
 * The factor of step t = 1 … steps: t/warmup during warm-up, then 1 → final along the decay.
 *
 * @example
 * scheduleFactor({ warmup: 10, decay: 'cosine', final: 0.1 }, 5, 100); // 0.5
 * scheduleFactor({ warmup: 10, decay: 'cosine', final: 0.1 }, 100, 100); // 0.1
 */
export function scheduleFactor(s: GroupSchedule, t: number, steps: number): number {
  if (s.warmup > 0 && t <= s.warmup) return t / s.warmup;
  if (s.decay === 'constant' || steps <= s.warmup) return 1;
  const u = Math.min(1, (t - s.warmup) / (steps - s.warmup));
  if (s.decay === 'linear') return 1 - (1 - s.final) * u;
  return s.final + (1 - s.final) * 0.5 * (1 + Math.cos(Math.PI * u));
}
