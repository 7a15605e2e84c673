/**
 * The transformer checkpoint: one file, versioned, holding everything a step depends on — every
 * parameter slot, every optimizer state tensor, every run-parameters buffer (step counts, frozen
 * flags) and the data cursor — so `--resume` continues a killed run bit for bit. Layout:
 *
 *   "MLCK" · u32 version (1) · u32 header bytes · header JSON (padded to 4 bytes) · tensor bytes
 *
 * The header (schema `muonlab.transformer-checkpoint/1`) carries the config the run was started
 * with, the step (updates done = the index of the next batch), the data source's state, and the name
 * and byte length of each tensor in payload order. A checkpoint of another config is refused with
 * the first difference named.
 */
import { z } from 'zod';
import { firstDifference, type TransformerConfig } from './config';

export const CHECKPOINT_SCHEMA = 'muonlab.transformer-checkpoint/1';
const MAGIC = 0x4b434c4d; // "MLCK" little-endian

export const CheckpointHeaderSchema = z.object({
  schema: z.literal(CHECKPOINT_SCHEMA),
  createdAt: z.string(),
  step: z.number().int().min(0),
  config: z.record(z.string(), z.unknown()),
  dataState: z.unknown().optional(),
  tensors: z.array(z.object({ name: z.string(), bytes: z.number().int().min(0) })),
});

export type CheckpointHeader = z.infer<typeof CheckpointHeaderSchema>;

export interface Checkpoint {
  header: CheckpointHeader;
  tensors: Map<string, Uint8Array>;
}

/**
 * Encodes a checkpoint.
 *
 * @example
 * const bytes = encodeCheckpoint({ step: 10, config, tensors: new Map([['slot0.w', new Uint8Array(w.buffer)]]) });
 */
export function encodeCheckpoint(c: {
  step: number;
  config: TransformerConfig;
  dataState?: unknown;
  tensors: Map<string, Uint8Array>;
}): Uint8Array {
  const header: CheckpointHeader = {
    schema: CHECKPOINT_SCHEMA,
    createdAt: new Date().toISOString(),
    step: c.step,
    config: c.config as unknown as Record<string, unknown>,
    ...(c.dataState === undefined ? {} : { dataState: c.dataState }),
    tensors: [...c.tensors].map(([name, b]) => ({ name, bytes: b.byteLength })),
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerBytes = Math.ceil(json.byteLength / 4) * 4;
  const total = 12 + headerBytes + [...c.tensors.values()].reduce((n, b) => n + Math.ceil(b.byteLength / 4) * 4, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, 1, true);
  view.setUint32(8, headerBytes, true);
  out.set(json, 12);
  out.fill(0x20, 12 + json.byteLength, 12 + headerBytes); // JSON tolerates trailing spaces
  let at = 12 + headerBytes;
  for (const b of c.tensors.values()) {
    out.set(b, at);
    at += Math.ceil(b.byteLength / 4) * 4;
  }
  return out;
}

/** Decodes a checkpoint; throws naming what is wrong (not a checkpoint, version, schema field). */
export function decodeCheckpoint(bytes: Uint8Array): Checkpoint {
  if (bytes.byteLength < 12) throw new RangeError(`checkpoint: ${bytes.byteLength} bytes is too short to be a muonlab checkpoint`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC) throw new RangeError('checkpoint: not a muonlab transformer checkpoint (magic "MLCK" missing)');
  const version = view.getUint32(4, true);
  if (version !== 1) throw new RangeError(`checkpoint: format version ${version} is not supported (supported: 1)`);
  const headerBytes = view.getUint32(8, true);
  const parsed = CheckpointHeaderSchema.safeParse(JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + headerBytes))));
  if (!parsed.success)
    throw new RangeError(`checkpoint header: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const header = parsed.data;
  const tensors = new Map<string, Uint8Array>();
  let at = 12 + headerBytes;
  for (const t of header.tensors) {
    if (at + t.bytes > bytes.byteLength) throw new RangeError(`checkpoint: tensor ${t.name} runs past the end of the file (truncated?)`);
    tensors.set(t.name, bytes.slice(at, at + t.bytes));
    at += Math.ceil(t.bytes / 4) * 4;
  }
  return { header, tensors };
}

/** Throws unless the checkpoint was written by this config, naming the first difference. */
export function assertSameConfig(checkpoint: Checkpoint, config: TransformerConfig): void {
  const diff = firstDifference(checkpoint.header.config, JSON.parse(JSON.stringify(config)));
  if (diff)
    throw new RangeError(
      `checkpoint: written by another config, refusing to resume; first difference (checkpoint ≠ this config) at ${diff}`,
    );
}
