/**
 * Metric readback that does not stall the queue (docs/architecture.md "metrics (every k steps) … small readback,
 * double-buffered, never stalls"). A metric step copies what it reports into one StagingSet of
 * MAP_READ buffers inside its own command buffer and starts mapping it; the scheduler goes on
 * encoding and submitting the next steps and consumes the set later. The ring holds `depth` sets
 * (2 = double-buffered), each reused every `depth`-th metric step, so the number of staging buffers
 * does not grow with the number of steps.
 */
import type { Gpu } from '../gpu/device';

interface Staged {
  buffer: GPUBuffer;
  /** Bytes copied at the current use (≤ buffer.size). */
  bytes: number;
}

/** The staging buffers of one metric step, by key (e.g. `outputs 0` for group 0's outputs). */
export class StagingSet {
  private readonly staged = new Map<string, Staged>();
  private readonly data = new Map<string, ArrayBuffer>();
  private used = new Set<string>();
  private mapping: Promise<Error | null> | null = null;
  private state: 'free' | 'recording' | 'mapping' = 'free';

  constructor(
    private readonly gpu: Gpu,
    readonly label: string,
  ) {}

  /** Starts a new use: the set must have been consumed (`release`) since its last one. */
  begin(): void {
    if (this.state !== 'free') throw new Error(`${this.label}: staging set reused before its readback was consumed`);
    this.state = 'recording';
    this.used = new Set();
    this.data.clear();
  }

  /** Records a copy of `bytes` bytes of `src` (from `offsetBytes`) into the staging buffer `key`. */
  copy(encoder: GPUCommandEncoder, key: string, src: GPUBuffer, offsetBytes: number, bytes: number): void {
    if (this.state !== 'recording') throw new Error(`${this.label}: copy outside a recording use`);
    if (this.used.has(key)) throw new Error(`${this.label}: "${key}" copied twice in one step`);
    let s = this.staged.get(key);
    if (!s || s.buffer.size < bytes) {
      s?.buffer.destroy();
      const buffer = this.gpu.device.createBuffer({
        label: `${this.label} ${key}`,
        size: Math.max(4, bytes),
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      });
      s = { buffer, bytes };
      this.staged.set(key, s);
    }
    s.bytes = bytes;
    this.used.add(key);
    encoder.copyBufferToBuffer(src, offsetBytes, s.buffer, 0, bytes);
  }

  /** Starts mapping (call after the command buffer with the copies was submitted); does not wait. */
  startMap(): void {
    if (this.state !== 'recording') throw new Error(`${this.label}: startMap without a recording use`);
    this.state = 'mapping';
    const keys = [...this.used];
    // Errors are kept, not thrown here: a set destroyed while mapping (a failed cell) must not
    // become an unhandled rejection. `ready()` rethrows them.
    this.mapping = Promise.all(
      keys.map(async (key) => {
        const s = this.staged.get(key)!;
        await s.buffer.mapAsync(GPUMapMode.READ, 0, alignTo4(s.bytes));
        this.data.set(key, s.buffer.getMappedRange(0, alignTo4(s.bytes)).slice(0, s.bytes));
        s.buffer.unmap();
      }),
    ).then(
      () => null,
      (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
    );
  }

  /** Waits until every buffer of this use is mapped and copied to the host. */
  async ready(): Promise<void> {
    if (this.state !== 'mapping' || !this.mapping) throw new Error(`${this.label}: ready() before startMap()`);
    const error = await this.mapping;
    if (error) throw new Error(`${this.label}: readback failed: ${error.message}`);
  }

  has(key: string): boolean {
    return this.used.has(key);
  }

  /** The bytes of `key` (after `ready`). */
  get(key: string): ArrayBuffer {
    const d = this.data.get(key);
    if (!d) throw new Error(`${this.label}: "${key}" was not read back${this.used.has(key) ? ' yet' : ' at this step'}`);
    return d;
  }

  /** Marks the data consumed: the set can be recorded into again. */
  release(): void {
    this.state = 'free';
    this.mapping = null;
    this.data.clear();
  }

  /** Waits for a pending mapping to settle (ignoring its outcome). */
  async settle(): Promise<void> {
    if (this.mapping) await this.mapping;
  }

  /** Number of staging buffers this set holds. */
  get bufferCount(): number {
    return this.staged.size;
  }

  destroy(): void {
    for (const s of this.staged.values()) s.buffer.destroy();
    this.staged.clear();
    this.data.clear();
  }
}

function alignTo4(n: number): number {
  return Math.max(4, Math.ceil(n / 4) * 4);
}

/** `depth` staging sets used round-robin (depth 2 = double-buffered). */
export class ReadbackRing {
  private readonly sets: StagingSet[];
  private next = 0;

  constructor(gpu: Gpu, depth: number, label: string) {
    if (!Number.isInteger(depth) || depth < 1) throw new RangeError(`ReadbackRing: depth must be an integer ≥ 1, got ${depth}`);
    this.sets = Array.from({ length: depth }, (_, i) => new StagingSet(gpu, `readback ${label} [${i}]`));
  }

  /** The next set, begun for recording (throws if it still holds an unconsumed readback). */
  acquire(): StagingSet {
    const set = this.sets[this.next];
    this.next = (this.next + 1) % this.sets.length;
    set.begin();
    return set;
  }

  get bufferCount(): number {
    return this.sets.reduce((s, x) => s + x.bufferCount, 0);
  }

  /** Lets pending mappings settle, then destroys every staging buffer. */
  async destroy(): Promise<void> {
    await Promise.all(this.sets.map((s) => s.settle()));
    for (const s of this.sets) s.destroy();
  }
}
