#!/usr/bin/env node
// `npm start` / `npm test` pre-step, so both work on a fresh clone with no other command:
//   1. install the npm dependencies when node_modules is missing or older than package-lock.json;
//   2. make sure a WebGPU-capable Chromium exists — as root on Debian/Ubuntu, install the distro's
//      `chromium` package (it ships SwiftShader, so WebGPU works without a GPU); otherwise stop with
//      one message saying exactly what to install.
// Plain JavaScript on purpose: it runs before the dependencies (and tsx) exist.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const say = (message) => console.error(`[muonlab setup] ${message}`);

function run(command, args) {
  say(`$ ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    say(`\`${command} ${args.join(' ')}\` failed (exit ${result.status ?? result.signal}).`);
    process.exit(1);
  }
}

function dependenciesCurrent() {
  const installed = join(root, 'node_modules', '.package-lock.json');
  const lock = join(root, 'package-lock.json');
  if (!existsSync(installed)) return false;
  return !existsSync(lock) || statSync(installed).mtimeMs >= statSync(lock).mtimeMs;
}

if (!dependenciesCurrent()) {
  say('installing npm dependencies…');
  run('npm', existsSync(join(root, 'package-lock.json')) ? ['ci', '--no-audit', '--no-fund'] : ['install', '--no-audit', '--no-fund']);
}

// The dependencies exist now: reuse the harness's own browser search (TypeScript, via tsx).
const { register } = await import('tsx/esm/api');
register();
const { findChromium, INSTALL_ADVICE } = await import('./flags.ts');
const { chromium } = await import('playwright');

function locate() {
  let playwrightPath;
  try {
    playwrightPath = chromium.executablePath();
  } catch {
    playwrightPath = undefined;
  }
  try {
    return findChromium(playwrightPath);
  } catch (err) {
    say(err.message);
    process.exit(1);
  }
}

let found = locate();
if (!found) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  let hasApt;
  try {
    execFileSync('apt-get', ['--version'], { stdio: 'ignore' });
    hasApt = true;
  } catch {
    hasApt = false;
  }
  if (isRoot && hasApt) {
    say('no Chromium found: installing Debian/Ubuntu package "chromium" (ships SwiftShader for WebGPU without a GPU)…');
    run('apt-get', ['update', '-qq']);
    run('apt-get', ['install', '-y', '-qq', 'chromium']);
    found = locate();
  }
  if (!found) {
    say(INSTALL_ADVICE);
    process.exit(1);
  }
}
say(`browser: ${found.path} (${found.source})`);

// The Node host (--host node) needs the Vulkan loader; install it the same way when we can, and
// otherwise only say so (the browser host does not need it).
let hasVulkanLoader;
try {
  hasVulkanLoader = /libvulkan\.so\.1 /.test(execFileSync('ldconfig', ['-p'], { encoding: 'utf8' }));
} catch {
  hasVulkanLoader = process.platform !== 'linux';
}
if (!hasVulkanLoader) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot) {
    try {
      say('installing Debian/Ubuntu package "libvulkan1" (the Vulkan loader the Node host needs)…');
      run('apt-get', ['install', '-y', '-qq', 'libvulkan1']);
    } catch {
      say('could not install libvulkan1: the Node host (--host node) will find no adapter until it is installed');
    }
  } else {
    say('no Vulkan loader (libvulkan.so.1): --host node needs it (Debian/Ubuntu: apt-get install libvulkan1)');
  }
}
