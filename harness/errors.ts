/**
 * What the CLI's exit status means, and how an error becomes one or a few readable lines. The
 * classes say whose fault it is: the user's arguments or config (64, fixable by editing the
 * command), the machine's browser or adapter (2), or the run itself (1). Stack traces are for
 * `--debug`: a user error with a minified page stack says nothing a user can act on.
 */
import { ConfigError } from '../src/experiments/config';
import { NoAdapterError } from './session';

export const EXIT = {
  ok: 0,
  /** A check or prediction failed, a runtime error, a folder held by another run. */
  failure: 1,
  /** No usable browser or WebGPU adapter. */
  noAdapter: 2,
  /** Bad arguments or config (EX_USAGE of sysexits.h). */
  usage: 64,
  /** Interrupted (Ctrl-C) after saving what had finished: 128 + SIGINT. */
  interrupted: 130,
} as const;

/** A bad command line, option value, or an option that does not apply: exit 64. */
export class UsageError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UsageError';
  }
}

/** The run was interrupted (SIGINT/SIGTERM) after what had finished was saved: exit 130. */
export class InterruptedError extends Error {
  constructor(message = 'interrupted') {
    super(message);
    this.name = 'InterruptedError';
  }
}

/**
 * The exit status for an error.
 *
 * @example
 * exitCodeOf(new UsageError('--shard: …')); // 64
 */
export function exitCodeOf(err: unknown): number {
  if (err instanceof UsageError || err instanceof ConfigError) return EXIT.usage;
  if (err instanceof NoAdapterError) return EXIT.noAdapter;
  if (err instanceof InterruptedError) return EXIT.interrupted;
  return EXIT.failure;
}

const FS_REASONS: Record<string, string> = {
  ENOSPC: 'no space left on the device (disk full)',
  EDQUOT: 'disk quota exceeded',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EISDIR: 'is a folder, not a file',
  ENAMETOOLONG: 'file name too long',
  ENOENT: 'no such file or folder',
  EEXIST: 'already exists',
  EMFILE: 'too many open files',
};

/** A Node file-system error as "cannot <syscall> <path>: <reason>" (no stack), or null. */
export function describeFsError(err: unknown): string | null {
  const e = err as NodeJS.ErrnoException & { dest?: string };
  if (!e || typeof e.code !== 'string' || !(e.code in FS_REASONS)) return null;
  const verb = e.syscall === 'open' || e.syscall === 'write' || e.syscall === 'rename' ? 'write' : (e.syscall ?? 'access');
  return `cannot ${verb} ${e.path ?? ''}${e.dest ? ` → ${e.dest}` : ''}: ${FS_REASONS[e.code]} (${e.code})`.replace(/ {2,}/g, ' ');
}

/**
 * The message to print for an error: its own message (Node file-system errors in words), the stack
 * only with `debug`.
 *
 * @example
 * describeError(err, options.debug);
 */
export function describeError(err: unknown, debug = false): string {
  const e = err as Error;
  if (debug) return e?.stack ?? String(err);
  if (err instanceof NoAdapterError) return `no WebGPU adapter (${err.reason})\n${err.message}`;
  const fs = describeFsError(err);
  if (fs) return `${fs}\n(run again with --debug for the stack trace)`;
  if (err instanceof UsageError || err instanceof ConfigError || err instanceof InterruptedError) return e.message;
  // Anything else is unexpected: its message, the first line of where it came from, and how to see more.
  const message = e?.message ?? String(err);
  return `${message}\n(run again with --debug for the stack trace)`;
}
