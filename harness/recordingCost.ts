/**
 * Measures the host's cost of recording training steps with and without the step plan
 * (src/gpu/dispatchPlan.ts) on one host, in alternating rounds so a drift of the machine's load hits
 * both alike (src/train/recordingCost.ts records the steps, the GPU idle before each):
 *
 *   node --import ./harness/registerHooks.mjs harness/recordingCost.ts [CONFIG.json] [--host browser|node]
 *        [--steps N] [--rounds R] [--json FILE]
 *
 * Default config: bench/gpukernels/recording.json. Prints one line per round and mode (dispatches per
 * second of recording time, and with the submits) and the load average; `--json` writes the rounds
 * with the adapter and flags.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { ExperimentConfigInput } from '../src/experiments/config';
import type { RecordingStats } from '../src/train/records';
import { writeJsonAtomic } from './files';
import { openNodeSession } from './nodeHost';
import { PROJECT_ROOT } from './server';
import { openSession, type HostName } from './session';

interface Round {
  round: number;
  stepPlan: boolean;
  load1: number;
  stats: RecordingStats;
}

const perSecond = (n: number, ms: number) => (ms > 0 ? (1000 * n) / ms : NaN);

/**
 * Runs the measurement and returns its rounds.
 *
 * @example
 * const rounds = await measureRecordingCost({ host: 'node', steps: 100, rounds: 3 });
 */
export async function measureRecordingCost(options: {
  config?: string;
  host: HostName;
  steps: number;
  rounds: number;
  log?: (line: string) => void;
}): Promise<{ rounds: Round[]; adapter: unknown; flags: string[] }> {
  const path = options.config ?? resolve(PROJECT_ROOT, 'bench/gpukernels/recording.json');
  const config = JSON.parse(readFileSync(path, 'utf8')) as ExperimentConfigInput;
  const session = await (options.host === 'node' ? openNodeSession : openSession)({ log: options.log });
  try {
    // One unmeasured pass first: pipeline compilation and the workspace's first allocations.
    await session.call('measureRecording', config, { steps: 2, stepPlan: true });
    const rounds: Round[] = [];
    for (let round = 1; round <= options.rounds; round++) {
      for (const stepPlan of [true, false]) {
        const load1 = loadavg()[0];
        const stats = await session.call('measureRecording', config, { steps: options.steps, stepPlan });
        rounds.push({ round, stepPlan, load1, stats });
        options.log?.(
          `${options.host} round ${round} ${stepPlan ? 'plan   ' : 'no plan'} load ${load1.toFixed(1)}: ${stats.dispatches} dispatches, ` +
            `${stats.recordMs.toFixed(0)} ms recording = ${perSecond(stats.dispatches, stats.recordMs).toFixed(0)}/s, ` +
            `with submits ${perSecond(stats.dispatches, stats.recordMs + stats.submitMs).toFixed(0)}/s` +
            (stats.plan
              ? `; plan made ${stats.plan.bindGroupsCreated} bind groups, ${stats.plan.uniformBuffersCreated} uniform buffers, rewrote ${stats.plan.uniformWrites} uniforms`
              : ''),
        );
      }
    }
    return { rounds, adapter: session.env.adapter, flags: session.flags };
  } finally {
    await session.close();
  }
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { host: { type: 'string' }, steps: { type: 'string' }, rounds: { type: 'string' }, json: { type: 'string' } },
  });
  const host = (values.host ?? 'browser') as HostName;
  if (host !== 'browser' && host !== 'node') {
    console.error(`recordingCost: --host = ${JSON.stringify(values.host)}: allowed: browser, node`);
    return 64;
  }
  const steps = Number(values.steps ?? 100);
  const rounds = Number(values.rounds ?? 3);
  for (const [name, v] of [
    ['--steps', steps],
    ['--rounds', rounds],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) {
      console.error(`recordingCost: ${name} = ${v}: must be a positive integer`);
      return 64;
    }
  }
  const result = await measureRecordingCost({ config: positionals[0], host, steps, rounds, log: (line) => console.log(line) });
  if (values.json)
    writeJsonAtomic(resolve(values.json), {
      schema: 'muonlab.recording-cost/1',
      createdAt: new Date().toISOString(),
      host,
      steps,
      ...result,
    });
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(PROJECT_ROOT, 'harness/recordingCost.ts')) {
  process.exitCode = await main(process.argv.slice(2));
}
