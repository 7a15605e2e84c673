/**
 * A run as a link: the URL hash carries the config (base64url of its UTF-8 JSON — seeds included, so
 * the same link trains the same runs on another machine) or a preset and scale; `run=1` starts it on
 * load. Only the hash is used, so the link works from any static host and never reaches a server.
 */
import type { RunSource } from './runState';
import { SCALES, type Scale } from '../experiments/presets/types';
import { boundsProblems } from '../experiments/bounds';
import type { ConfigCheck } from './configValidation';

function toBase64Url(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(text: string): string {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
}

/** The hash (with its '#') for a run source. */
export function encodeShareHash(source: RunSource, autorun = false): string {
  const params = new URLSearchParams();
  if (source.kind === 'preset') {
    params.set('preset', source.preset);
    params.set('scale', source.scale);
  } else params.set('config', toBase64Url(JSON.stringify(source.config)));
  if (autorun) params.set('run', '1');
  return `#${params.toString()}`;
}

export interface SharedRun {
  /** The preset, or the config's raw value (validated by the editor like typed text). */
  source: { kind: 'preset'; preset: string; scale: Scale } | { kind: 'config'; text: string } | null;
  autorun: boolean;
  /** Why the hash could not be read, in words. */
  error?: string;
}

/** Reads a hash made by encodeShareHash; an empty hash gives `source: null`. */
export function decodeShareHash(hash: string): SharedRun {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const autorun = params.get('run') === '1';
  const preset = params.get('preset');
  if (preset) {
    const scale = params.get('scale') ?? 'ci';
    if (!(SCALES as readonly string[]).includes(scale))
      return { source: null, autorun: false, error: `link: scale = "${scale}" is not a scale (allowed: ${SCALES.join(', ')})` };
    return { source: { kind: 'preset', preset, scale: scale as Scale }, autorun };
  }
  const config = params.get('config');
  if (config) {
    try {
      return { source: { kind: 'config', text: JSON.stringify(JSON.parse(fromBase64Url(config)), null, 2) }, autorun };
    } catch (err) {
      return {
        source: null,
        autorun: false,
        error: `link: the config in the URL cannot be read (${(err as Error).message}); was the link cut short?`,
      };
    }
  }
  return { source: null, autorun: false };
}

/**
 * What a link with `run=1` may do on open: `run` at once; `confirm` first — a `full` scale (hours,
 * meant for a real GPU) or a config above BOUNDS (`steps: 1e15`) is never started by merely
 * opening a link; `none` without `run=1` or with an unreadable link. `reasons` says why in words.
 *
 * @example
 * autorunDecision(decodeShareHash('#preset=c-capacity-onestep&scale=full&run=1'), null);
 * // { action: 'confirm', reasons: ['scale full: …'] }
 */
export function autorunDecision(shared: SharedRun, check: ConfigCheck | null): { action: 'run' | 'confirm' | 'none'; reasons: string[] } {
  if (!shared.autorun || shared.error || !shared.source) return { action: 'none', reasons: [] };
  if (shared.source.kind === 'preset') {
    return shared.source.scale === 'full'
      ? { action: 'confirm', reasons: [`scale full: the paper-sized run of ${shared.source.preset} (hours; meant for a real GPU)`] }
      : { action: 'run', reasons: [] };
  }
  if (!check || !check.ok) return { action: 'none', reasons: [] };
  const reasons = boundsProblems(check.config, check.cells).map((r) => r.replace(/ \(give --allow-large.*\)$/, ''));
  return reasons.length ? { action: 'confirm', reasons } : { action: 'run', reasons: [] };
}
