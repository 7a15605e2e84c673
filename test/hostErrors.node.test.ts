// Choosing a host from the command line: an unknown --host is a usage error (exit 64) naming the
// allowed values; the Node host without a usable adapter exits 2 naming the host, what it tried and
// what to install. Runs the real CLI (bin/muonlab.js) in a child process.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { PROJECT_ROOT } from '../harness/server';

const cli = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [join(PROJECT_ROOT, 'bin', 'muonlab.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 120_000,
  });

describe('--host', () => {
  test('an unknown host exits 64 naming the allowed values', { timeout: 120_000 }, () => {
    const r = cli(['env', '--host', 'gpu']);
    expect(r.status).toBe(64);
    expect(r.stderr).toMatch(/--host = "gpu": .*\(allowed: browser, node\)/);
  });

  test(
    'the Node host with a Vulkan driver that does not exist exits 2: host, what was tried, what to install',
    { timeout: 120_000 },
    () => {
      const r = cli(['env', '--host', 'node'], { VK_DRIVER_FILES: '/nonexistent/icd.json', VK_ICD_FILENAMES: '/nonexistent/icd.json' });
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/host node: Dawn \(webgpu [\d.]+\) found no usable adapter/);
      expect(r.stderr).toMatch(/tried: VK_DRIVER_FILES\/VK_ICD_FILENAMES set by the user: \/nonexistent\/icd\.json/);
      expect(r.stderr).toMatch(/libvulkan1/);
    },
  );
});
