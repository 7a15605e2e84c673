/**
 * One way shared WGSL reaches a shader: `//#import lib/<name>.wgsl` lines, resolved here for the
 * page, the Node host and the tests alike. WGSL has no modules; a directive inside a line comment
 * keeps every file valid WGSL for editors and tools that know nothing of it.
 *
 * Rules: a directive names a path relative to shaders/; the imported file is inlined in place of the
 * directive (its own imports first, depth-first); each file is inlined at most once per composed
 * shader, so two pieces may import the same base piece. The result carries a line map — composed
 * line n (1-based) came from `lines[n − 1]` — so a compiler message can name the file and line the
 * author wrote (`locateLine`). Pure TypeScript: no device, no file system.
 */

/** Where one composed line came from: a path under shaders/ and its 1-based line number. */
export interface SourceLine {
  file: string;
  line: number;
}

export interface ComposedWgsl {
  /** The shader path that was composed (relative to shaders/). */
  path: string;
  code: string;
  /** One entry per line of `code`. */
  lines: SourceLine[];
  /** Every file inlined, in order, the composed file last. */
  files: string[];
}

const IMPORT = /^\s*\/\/#import\s+(\S+)\s*$/;

/**
 * Composes a shader from its `//#import` directives.
 *
 * @example
 * const sources = { 'lib/finite.wgsl': 'fn finite(x: f32) -> bool { … }', 'optimizers/gd.wgsl': '//#import lib/finite.wgsl\n…' };
 * const { code, lines } = composeWgsl('optimizers/gd.wgsl', (p) => sources[p]);
 * locateLine(lines, 1); // 'shaders/lib/finite.wgsl:1'
 */
export function composeWgsl(path: string, lookup: (path: string) => string | undefined): ComposedWgsl {
  const out: string[] = [];
  const lines: SourceLine[] = [];
  const files: string[] = [];
  const done = new Set<string>();
  const visit = (file: string, stack: readonly string[]): void => {
    done.add(file);
    const source = lookup(file);
    if (source === undefined) throw new Error(`shaders/${file} not found`);
    source.split('\n').forEach((text, i) => {
      const match = IMPORT.exec(text);
      if (!match) {
        out.push(text);
        lines.push({ file, line: i + 1 });
        return;
      }
      const target = match[1];
      if (stack.includes(target)) throw new Error(`shaders/${file}:${i + 1}: import cycle ${[...stack, file, target].join(' → ')}`);
      if (done.has(target)) return;
      if (lookup(target) === undefined) throw new Error(`shaders/${file}:${i + 1}: imports shaders/${target}, which does not exist`);
      visit(target, [...stack, file]);
    });
    files.push(file);
  };
  visit(path, []);
  return { path, code: out.join('\n'), lines, files };
}

/**
 * The author's file and line of a composed line (1-based, as WGSL compilers report), as
 * `shaders/<file>:<line>`; out-of-range lines name the composed shader itself.
 */
export function locateLine(lines: readonly SourceLine[], composedLine: number): string {
  const at = lines[composedLine - 1];
  return at ? `shaders/${at.file}:${at.line}` : `(composed line ${composedLine})`;
}

/**
 * Parses `const NAME: u32 = 3u;`-style declarations (u32, i32, f32 or an untyped literal) of a WGSL
 * source: how TypeScript checks that the constants it shares with shaders agree (test/composeWgsl).
 */
export function wgslConstants(source: string): Record<string, number> {
  const found: Record<string, number> = {};
  const decl = /^\s*const\s+([A-Za-z_]\w*)\s*(?::\s*(?:u32|i32|f32))?\s*=\s*(-?[\d.eE+-]+)[uif]?\s*;/gm;
  for (let m = decl.exec(source); m; m = decl.exec(source)) found[m[1]] = Number(m[2]);
  return found;
}
