/**
 * Runs what the page asks for — every sweep cell of a config through the training scheduler, or a
 * preset at a scale — into a RunState, with pause (between steps, through trainCell's whilePaused
 * hook), cancel (its AbortSignal) and device loss (the run stops with the reason; every record read
 * back so far stays in the state and can be exported). Records are also passed to
 * `window.muonlabRecord` when a harness listens, like the automation API's runCell does.
 */
import type { Gpu } from '../gpu/device';
import type { ExperimentConfigInput } from '../experiments/config';
import type { SweepCell } from '../experiments/sweep';
import { presetByName } from '../experiments/presets/index';
import type { Scale } from '../experiments/presets/types';
import { trainCell } from '../train/trainCell';
import { createRunState, type RunState } from './runState';

class DeviceLost extends Error {}

/** Drives one run at a time and keeps its state; `onChange` is called after every change. */
export class PageRunner {
  state: RunState = createRunState();
  private abort: AbortController | null = null;
  private gate: { promise: Promise<void>; open: () => void } | null = null;

  constructor(
    private readonly gpuPromise: Promise<Gpu>,
    private readonly onChange: () => void,
  ) {}

  get busy(): boolean {
    return this.state.status === 'running' || this.state.status === 'paused';
  }

  private changed(): void {
    this.state.version++;
    this.onChange();
  }

  private begin(source: RunState['source']): void {
    if (this.busy) throw new Error('a run is already in progress: cancel it first');
    this.state = { ...createRunState(), source, status: 'running', startedAt: new Date().toISOString(), version: this.state.version + 1 };
    this.abort = new AbortController();
    this.gate = null;
  }

  /** Rejects when the device is lost, so a run never waits on a dead device. */
  private lostWatch(gpu: Gpu): Promise<never> {
    return gpu.lost.then((info) => {
      throw new DeviceLost(`${info.reason || 'unknown'}: ${info.message || 'no message'}`);
    });
  }

  private finish(err: unknown, gpu: Gpu | undefined): void {
    if (err === undefined) this.state.status = this.abort?.signal.aborted ? 'cancelled' : 'done';
    else if (err instanceof DeviceLost || gpu?.lostReason !== undefined) {
      this.state.status = 'device-lost';
      this.state.message = `The GPU device was lost (${err instanceof DeviceLost ? err.message : gpu?.lostReason}). The ${this.recordCount()} records read back before it are kept: export them below. Reload the page to get a new device.`;
    } else {
      this.state.status = 'failed';
      this.state.message = (err as Error).message ?? String(err);
    }
    this.state.progress = this.state.status === 'done' ? null : this.state.progress;
    this.abort = null;
    this.gate?.open();
    this.gate = null;
    this.changed();
  }

  private recordCount(): number {
    return this.state.cells.reduce((n, c) => n + c.records.length, 0);
  }

  /** Trains every cell of a validated config, one after another. */
  async runConfig(config: ExperimentConfigInput, cells: SweepCell[]): Promise<void> {
    this.begin({ kind: 'config', config });
    this.state.cells = cells.map((c) => ({ id: c.id, point: c.point, config: c.config, records: [], stopped: null }));
    this.changed();
    let gpu: Gpu | undefined;
    try {
      gpu = await this.gpuPromise;
      const lost = this.lostWatch(gpu);
      lost.catch(() => {});
      const signal = this.abort!.signal;
      for (const [index, cell] of this.state.cells.entries()) {
        if (signal.aborted) break;
        const run = trainCell(gpu, cell.config, {
          cell: cell.id,
          signal,
          whilePaused: () => this.gate?.promise,
          onRecord: (record) => {
            cell.records.push(record);
            window.muonlabRecord?.(cell.id, record);
            this.changed();
          },
          onProgress: (e) => {
            this.state.progress = { cell: cell.id, step: e.step, steps: e.steps, cellIndex: index, cells: this.state.cells.length };
            window.muonlabTrainProgress?.(e);
            this.changed();
          },
        });
        const result = await Promise.race([run, lost]);
        cell.stopped = result.stopped;
      }
      this.finish(undefined, gpu);
    } catch (err) {
      await lossSettled(gpu);
      this.finish(err, gpu);
    }
  }

  /** Runs a preset at a scale; its report (predictions, plots) lands in the state when done. */
  async runPreset(name: string, scale: Scale): Promise<void> {
    this.begin({ kind: 'preset', preset: name, scale });
    this.changed();
    let gpu: Gpu | undefined;
    try {
      const preset = presetByName(name);
      gpu = await this.gpuPromise;
      const lost = this.lostWatch(gpu);
      lost.catch(() => {});
      const report = await Promise.race([
        preset.run(gpu, scale, (message) => {
          this.state.presetLog.push(message);
          this.changed();
        }),
        lost,
      ]);
      this.state.presetReport = report;
      this.finish(undefined, gpu);
    } catch (err) {
      await lossSettled(gpu);
      this.finish(err, gpu);
    }
  }

  /** Holds the run before its next step (config runs; presets run to the end). */
  pause(): void {
    if (this.state.status !== 'running' || this.state.source?.kind !== 'config') return;
    let open!: () => void;
    const promise = new Promise<void>((resolve) => (open = resolve));
    this.gate = { promise, open };
    this.state.status = 'paused';
    this.changed();
  }

  resume(): void {
    if (this.state.status !== 'paused') return;
    this.gate?.open();
    this.gate = null;
    this.state.status = 'running';
    this.changed();
  }

  /** Stops a config run before its next step (what was read back stays). */
  cancel(): void {
    if (!this.busy || this.state.source?.kind !== 'config') return;
    this.abort?.abort();
    this.gate?.open();
    this.gate = null;
    if (this.state.status === 'paused') this.state.status = 'running';
    this.changed();
  }
}

/**
 * A lost device often surfaces first as whatever GPU call failed (a readback's mapAsync), a moment
 * before device.lost resolves: waiting for it briefly (≤ 200 ms) lets finish() say "device lost"
 * instead of showing that call's error as a failure.
 */
async function lossSettled(gpu: Gpu | undefined): Promise<void> {
  if (!gpu || gpu.lostReason !== undefined) return;
  await Promise.race([gpu.lost.then(() => undefined), new Promise<void>((ok) => setTimeout(ok, 200))]);
}
