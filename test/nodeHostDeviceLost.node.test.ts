// The Node host when the device is lost mid-run: the run stops with an error that says the device
// was lost, and the cells finished before it keep their results on disk (as on the browser host,
// whose page test covers the same). a-noiseless at ci is split into one cell per optimizer.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { openNodeSession } from '../harness/nodeHost';
import { presetCellDirectory, runPresetInCells } from '../harness/presetRun';
import { presetCells } from '../src/experiments/presets/catalog';

const dir = mkdtempSync(join(tmpdir(), 'muonlab-lost-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Node host: device lost mid-run', () => {
  test('the run stops naming the lost device; finished cells keep their result.json', { timeout: 300_000 }, async () => {
    const session = await openNodeSession();
    const cells = presetCells('a-noiseless', 'ci');
    expect(cells.length).toBeGreaterThanOrEqual(2);
    let error: Error | undefined;
    try {
      await runPresetInCells(session, 'a-noiseless', 'ci', dir, cells, {
        onCell: (done) => {
          // Before the second cell: the first one is on disk; lose the device now.
          if (done === 1) void session.loseDevice!();
        },
      });
    } catch (err) {
      error = err as Error;
    } finally {
      await session.close();
    }
    expect(error?.message).toMatch(/lost|destroyed/i);
    expect(existsSync(join(presetCellDirectory(dir, cells[0]), 'result.json'))).toBe(true);
    expect(existsSync(join(presetCellDirectory(dir, cells[1]), 'result.json'))).toBe(false);
  });
});
