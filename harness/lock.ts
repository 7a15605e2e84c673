/**
 * One writer per results folder. Two `muonlab run`s writing one `--out` interleave their
 * metrics.jsonl lines and both exit 0; the lock makes the second one stop before it writes anything,
 * naming the holder.
 *
 * The lock is proper-lockfile's (an atomic mkdir of `<dir>/.muonlab.lock`, its mtime refreshed while
 * held, so a holder that died on another machine of a shared file system goes stale after
 * STALE_MS) — a maintained library that already handles the races of taking over a stale lock.
 * Beside it, `<dir>/.muonlab.lock.json` names the holder (pid, host, start time, command) for the
 * message, and lets a holder that died on this host (kill -9, a crash) be recognised at once by its
 * pid instead of after STALE_MS; such a lock is taken over only when asked (`--resume`,
 * `--force-new`), since a crashed run's folder is what --resume is for.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, rmdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import writeFileAtomic from 'write-file-atomic';

/** A lock not refreshed for this long belongs to a dead holder (refreshed every STALE_MS / 3). */
export const STALE_MS = 30_000;

export const LOCK_DIR = '.muonlab.lock';
export const HOLDER_FILE = '.muonlab.lock.json';

export interface LockHolder {
  pid: number;
  host: string;
  startedAt: string;
  command: string;
}

/** The folder is held by another writer (or by one that crashed, without --resume). */
export class FolderLockedError extends Error {
  constructor(
    message: string,
    readonly holder: LockHolder | null,
    readonly stale: boolean,
  ) {
    super(message);
    this.name = 'FolderLockedError';
  }
}

export interface FolderLock {
  dir: string;
  /** Throws if the lock was lost while held (its refresh failed, or another process took it). */
  check(): void;
  /** Releases the lock; `removeIfEmpty` also removes the folder if this lock created it and nothing was written. */
  release(options?: { removeIfEmpty?: boolean }): Promise<void>;
}

function readHolder(dir: string): LockHolder | null {
  try {
    return JSON.parse(readFileSync(join(dir, HOLDER_FILE), 'utf8')) as LockHolder;
  } catch {
    return null;
  }
}

/** Whether a process with this pid exists on this host (EPERM: it exists, owned by someone else). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function describeHolder(h: LockHolder | null): string {
  return h ? `pid ${h.pid} on ${h.host}, started ${h.startedAt}: ${h.command}` : 'holder unknown';
}

/**
 * Takes the folder's lock, creating the folder. Throws FolderLockedError naming the holder when
 * another live process holds it; a lock left by a dead process on this host is taken over with
 * `takeOverStale`, refused (naming it as a crashed run's) without.
 *
 * @example
 * const lock = await lockFolder('runs/my-sweep', { takeOverStale: options.resume, command: 'muonlab run x.json' });
 * try { … write results … } finally { await lock.release(); }
 */
export async function lockFolder(dir: string, options: { takeOverStale?: boolean; command?: string } = {}): Promise<FolderLock> {
  const existed = existsSync(dir);
  mkdirSync(dir, { recursive: true });
  let compromised: Error | null = null;
  const lockOptions = {
    lockfilePath: join(dir, LOCK_DIR),
    realpath: false,
    stale: STALE_MS,
    update: STALE_MS / 3,
    // The default throws from a timer (an uncaught exception); the writer checks between cells instead.
    onCompromised: (err: Error) => {
      compromised = err;
    },
  };
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(dir, lockOptions);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw err;
    const holder = readHolder(dir);
    const dead = holder !== null && holder.host === hostname() && !alive(holder.pid);
    if (!dead) {
      throw new FolderLockedError(
        `${dir} is being written by another muonlab process (${describeHolder(holder)}); wait for it to finish, or use another --out`,
        holder,
        false,
      );
    }
    if (!options.takeOverStale) {
      throw new FolderLockedError(
        `${dir} is locked by a muonlab process that no longer runs (${describeHolder(holder)}); continue its run with --resume (which takes the lock over), or start over with --force-new`,
        holder,
        true,
      );
    }
    rmSync(join(dir, LOCK_DIR), { recursive: true, force: true });
    release = await lockfile.lock(dir, lockOptions);
  }
  const holder: LockHolder = {
    pid: process.pid,
    host: hostname(),
    startedAt: new Date().toISOString(),
    command: options.command ?? process.argv.slice(1).join(' '),
  };
  writeFileAtomic.sync(join(dir, HOLDER_FILE), `${JSON.stringify(holder, null, 2)}\n`);
  let released = false;
  return {
    dir,
    check() {
      if (compromised)
        throw new Error(`lost the lock on ${dir} (${(compromised as Error).message}); another process may be writing it — stopping`);
    },
    async release(opts = {}) {
      if (released) return;
      released = true;
      rmSync(join(dir, HOLDER_FILE), { force: true });
      await release().catch(() => undefined);
      if (opts.removeIfEmpty && !existed) {
        try {
          if (readdirSync(dir).length === 0) rmdirSync(dir);
        } catch {
          // Someone else wrote into it meanwhile, or it is gone: leave it.
        }
      }
    },
  };
}
