/**
 * A throw-away single-node Slurm for the tests: munged, slurmctld and slurmd from Debian's packages
 * (slurmctld, slurmd, munge — .ci/run installs them), run as root with a minimal slurm.conf in a
 * temporary folder (proctrack/linuxproc and task/none, so no cgroups; no accounting database; free
 * ports, so it cannot meet a real cluster on this machine). Clients reach it through SLURM_CONF.
 *
 * Where Slurm cannot start, startLocalSlurm says why instead of throwing, so the caller can skip
 * with that reason printed.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { createServer } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { findOnPath } from '../harness/slurmScheduler';

export interface LocalSlurm {
  dir: string;
  /** Environment for Slurm clients (sbatch, squeue, … and muonlab) to reach this cluster. */
  env: Record<string, string>;
  /** Cancels every job, shuts the daemons down, stops munged. */
  stop(): Promise<void>;
}

export type StartResult = { ok: true; slurm: LocalSlurm } | { ok: false; reason: string; missing?: string[] };

const DAEMONS = ['munged', 'slurmctld', 'slurmd'];
const CLIENTS = ['sbatch', 'squeue', 'scontrol', 'scancel', 'sinfo'];

/** Daemons live in sbin, which a non-login PATH may lack. */
function locate(command: string): string | null {
  return findOnPath(command, `${process.env.PATH ?? ''}:/usr/sbin:/sbin:/usr/bin`);
}

async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function tail(file: string, lines = 15): string {
  return existsSync(file) ? readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n') : '(no log)';
}

function readPid(file: string): number | null {
  if (!existsSync(file)) return null;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts the cluster and waits until its node is idle.
 *
 * @example
 * const started = await startLocalSlurm();
 * if (started.ok) { process.env.SLURM_CONF = started.slurm.env.SLURM_CONF; …; await started.slurm.stop(); }
 */
export async function startLocalSlurm(): Promise<StartResult> {
  const missing = [...DAEMONS, ...CLIENTS].filter((c) => !locate(c));
  if (missing.length)
    return {
      ok: false,
      missing,
      reason: `Slurm is not installed (missing ${missing.join(', ')}): apt-get install -y slurmctld slurmd munge`,
    };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'not root: a single-node slurmd must run as root to start jobs' };
  const bin = Object.fromEntries([...DAEMONS, ...CLIENTS].map((c) => [c, locate(c)!]));
  const dir = mkdtempSync(join(tmpdir(), 'muonlab-slurm-'));
  for (const sub of ['state', 'spool', 'log']) mkdirSync(join(dir, sub));
  const key = join(dir, 'munge.key');
  writeFileSync(key, randomBytes(1024));
  chmodSync(key, 0o600);
  const socket = join(dir, 'munge.socket');
  const node = hostname().split('.')[0];
  const [ctldPort, slurmdPort] = [await freePort(), await freePort()];
  const conf = join(dir, 'slurm.conf');
  writeFileSync(
    conf,
    [
      'ClusterName=muonlabtest',
      `SlurmctldHost=${node}(127.0.0.1)`,
      `SlurmctldPort=${ctldPort}`,
      `SlurmdPort=${slurmdPort}`,
      'SlurmUser=root',
      'SlurmdUser=root',
      'AuthType=auth/munge',
      'CredType=cred/munge',
      `AuthInfo=socket=${socket}`,
      `StateSaveLocation=${dir}/state`,
      `SlurmdSpoolDir=${dir}/spool`,
      `SlurmctldPidFile=${dir}/slurmctld.pid`,
      `SlurmdPidFile=${dir}/slurmd.pid`,
      `SlurmctldLogFile=${dir}/log/slurmctld.log`,
      `SlurmdLogFile=${dir}/log/slurmd.log`,
      // No cgroups: linuxproc tracks a job's processes by parentage, task/none binds nothing.
      'ProctrackType=proctrack/linuxproc',
      'TaskPlugin=task/none',
      'JobAcctGatherType=jobacct_gather/none',
      'AccountingStorageType=accounting_storage/none',
      'JobCompType=jobcomp/none',
      'SchedulerType=sched/backfill',
      'SelectType=select/cons_tres',
      'SelectTypeParameters=CR_Core',
      'MpiDefault=none',
      'ReturnToService=2',
      // Finished jobs stay visible to scontrol/squeue for 10 minutes (no accounting database here).
      'MinJobAge=600',
      `NodeName=${node} NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN`,
      'PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP',
      '',
    ].join('\n'),
  );
  const env = { SLURM_CONF: conf };
  const childEnv = { ...process.env, ...env };
  const logs = ['munged.log', 'slurmctld.log', 'slurmd.log'].map((f) => join(dir, 'log', f));

  const stop = async () => {
    spawnSync(bin.scancel, ['--full', '-u', 'root'], { env: childEnv, stdio: 'ignore' });
    await sleep(1000);
    spawnSync(bin.scontrol, ['shutdown'], { env: childEnv, stdio: 'ignore', timeout: 20_000 });
    const pids = ['slurmctld.pid', 'slurmd.pid'].map((f) => readPid(join(dir, f))).filter((p): p is number => p !== null);
    for (let i = 0; i < 50 && pids.some(alive); i++) await sleep(200);
    for (const pid of pids.filter(alive)) process.kill(pid, 'SIGKILL');
    spawnSync(bin.munged, ['--stop', `--socket=${socket}`], { stdio: 'ignore', timeout: 10_000 });
  };

  try {
    execFileSync(
      bin.munged,
      [
        '--force',
        `--socket=${socket}`,
        `--key-file=${key}`,
        `--log-file=${logs[0]}`,
        `--pid-file=${dir}/munged.pid`,
        `--seed-file=${dir}/munged.seed`,
      ],
      { stdio: 'pipe' },
    );
    execFileSync(bin.slurmctld, ['-c', '-f', conf], { env: childEnv, stdio: 'pipe' });
    execFileSync(bin.slurmd, ['-f', conf], { env: childEnv, stdio: 'pipe' });
  } catch (err) {
    await stop();
    return {
      ok: false,
      reason: `a Slurm daemon did not start: ${(err as Error).message}\n${logs.map((l) => `${l}:\n${tail(l)}`).join('\n')}`,
    };
  }
  for (let i = 0; i < 150; i++) {
    const state = spawnSync(bin.sinfo, ['-h', '-o', '%T'], { env: childEnv, encoding: 'utf8' }).stdout?.trim();
    if (state === 'idle') return { ok: true, slurm: { dir, env, stop } };
    await sleep(200);
  }
  await stop();
  return { ok: false, reason: `the node did not become idle within 30 s\n${logs.map((l) => `${l}:\n${tail(l)}`).join('\n')}` };
}
