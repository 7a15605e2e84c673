/**
 * Result files. JSON and binary files are written atomically (temporary file + rename) by
 * write-file-atomic — the npm project's own maintained implementation, which also removes the
 * temporary file when the write fails (disk full) or the process is interrupted, so a crash leaves
 * neither half a JSON nor orphaned `.tmp` files. JSONL records are appended as whole lines only: a
 * failed append is cut back to the last complete line, and readers drop a cut-short last line.
 */
import { closeSync, existsSync, fstatSync, ftruncateSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import atomicWrite from 'write-file-atomic';

/**
 * Writes `path` atomically (creating its folder); on failure nothing of the new content remains.
 *
 * @example
 * writeFileAtomic('runs/x/report.md', '# report\n');
 */
export function writeFileAtomic(path: string, content: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  // fsync off: durability across power loss is not the point, atomicity across crashes is (rename).
  atomicWrite.sync(path, typeof content === 'string' ? content : Buffer.from(content.buffer, content.byteOffset, content.byteLength), {
    fsync: false,
  });
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Appends one line (a newline is added) so that the file only ever holds whole lines: if the write
 * fails part-way (disk full), the file is truncated back to its length before the append.
 *
 * @example
 * appendLine('runs/x/cells/000-single/metrics.jsonl', JSON.stringify(record));
 */
export function appendLine(path: string, line: string): void {
  const bytes = Buffer.from(`${line}\n`, 'utf8');
  const fd = openSync(path, 'a');
  const before = fstatSync(fd).size;
  try {
    let written = 0;
    while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
  } catch (err) {
    try {
      ftruncateSync(fd, before);
    } catch {
      // Truncating cannot fail for lack of space; if it fails anyway, readers still drop the cut line.
    }
    throw err;
  } finally {
    closeSync(fd);
  }
}

/**
 * The JSON values of a JSONL file, one per line. A last line without its newline was cut short by a
 * crash or a full disk: it is dropped (and reported through `onDropped`); a bad line anywhere else
 * is an error naming the file and line.
 *
 * @example
 * const records = readJsonLines('runs/x/cells/000-single/metrics.jsonl');
 */
export function readJsonLines(path: string, onDropped?: (message: string) => void): unknown[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  const last = lines.pop() ?? '';
  if (last.trim()) onDropped?.(`${path}: dropped a cut-short last line (${last.length} bytes without a newline)`);
  return lines.flatMap((line, i) => {
    if (!line.trim()) return [];
    try {
      return [JSON.parse(line) as unknown];
    } catch (err) {
      throw new RangeError(`${path}:${i + 1}: not a JSON line (${(err as Error).message})`, { cause: err });
    }
  });
}

/** A run folder id: sortable timestamp + name, e.g. `20261123-141500-foundation`. */
export function runId(name: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stamp}-${name}`;
}
