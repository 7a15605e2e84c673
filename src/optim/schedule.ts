/**
 * Learning rates (docs/math.md §2 "Step sizes"): a number, or an expression of d, d_in, d_out, N such as
 * "sqrt(d)" or "2*sqrt(d)", held constant or scheduled — geometric η_t = η_1·g^{t−1} (t = 1, 2, …)
 * or an explicit list with one entry per step. Expressions go through a tiny recursive-descent
 * parser (numbers, + − * / ^, parentheses, sqrt/log/exp/min/max/pow): no eval, nothing else allowed.
 */

export interface ProblemDims {
  d_in: number;
  d_out: number;
  N: number;
}

export type LearningRate = number | string;

export type LearningRateSchedule =
  | LearningRate
  | { kind: 'constant'; lr: LearningRate }
  | { kind: 'geometric'; lr: LearningRate; growth: number }
  | { kind: 'list'; values: LearningRate[] };

type Token = { kind: 'num'; value: number } | { kind: 'id'; name: string } | { kind: 'op'; op: string };

const FUNCTIONS: Record<string, { arity: number; f: (...x: number[]) => number }> = {
  sqrt: { arity: 1, f: Math.sqrt },
  log: { arity: 1, f: Math.log },
  exp: { arity: 1, f: Math.exp },
  min: { arity: 2, f: Math.min },
  max: { arity: 2, f: Math.max },
  pow: { arity: 2, f: Math.pow },
};
const VARIABLES = ['d', 'd_in', 'd_out', 'N'];

function tokenize(text: string, field: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (/\s/.test(ch)) {
      i++;
    } else if (/[0-9.]/.test(ch)) {
      const m = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(text.slice(i));
      if (!m) throw new SyntaxError(`${field}: bad number at "${text.slice(i)}" in "${text}"`);
      tokens.push({ kind: 'num', value: Number(m[0]) });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(ch)) {
      const m = /^[A-Za-z_][A-Za-z_0-9]*/.exec(text.slice(i))!;
      tokens.push({ kind: 'id', name: m[0] });
      i += m[0].length;
    } else if ('+-*/^(),'.includes(ch)) {
      tokens.push({ kind: 'op', op: ch });
      i++;
    } else {
      throw new SyntaxError(
        `${field}: unexpected character "${ch}" in "${text}"; allowed: numbers, ${VARIABLES.join(', ')}, + - * / ^ ( ), ${Object.keys(FUNCTIONS).join(', ')}`,
      );
    }
  }
  return tokens;
}

/**
 * Evaluates a learning-rate expression for the given problem sizes. `d` means d_in = d_out and is
 * an error when they differ.
 *
 * @example
 * evaluateExpression('2*sqrt(d)', { d_in: 64, d_out: 64, N: 100 }); // 16
 */
export function evaluateExpression(text: string, dims: ProblemDims, field = 'lr'): number {
  const tokens = tokenize(text, field);
  let pos = 0;
  const peek = () => tokens[pos];
  const isOp = (op: string) => peek()?.kind === 'op' && (peek() as { op: string }).op === op;
  const expect = (op: string) => {
    if (!isOp(op)) throw new SyntaxError(`${field}: expected "${op}" in "${text}"`);
    pos++;
  };
  const variable = (name: string): number => {
    if (name === 'd') {
      if (dims.d_in !== dims.d_out)
        throw new RangeError(`${field}: "d" is ambiguous in "${text}": d_in = ${dims.d_in}, d_out = ${dims.d_out} (write d_in or d_out)`);
      return dims.d_in;
    }
    if (name === 'd_in' || name === 'd_out' || name === 'N') {
      if (!Number.isFinite(dims[name])) throw new RangeError(`${field}: "${name}" is not known here in "${text}" (give the problem sizes)`);
      return dims[name];
    }
    throw new RangeError(`${field}: unknown name "${name}" in "${text}"; allowed: ${[...VARIABLES, ...Object.keys(FUNCTIONS)].join(', ')}`);
  };
  // expr := term (('+'|'-') term)*; term := unary (('*'|'/') unary)*; unary := '-' unary | power;
  // power := atom ('^' unary)?; atom := number | name | name '(' args ')' | '(' expr ')'
  const expr = (): number => {
    let v = term();
    while (isOp('+') || isOp('-')) {
      const op = (tokens[pos++] as { op: string }).op;
      v = op === '+' ? v + term() : v - term();
    }
    return v;
  };
  const term = (): number => {
    let v = unary();
    while (isOp('*') || isOp('/')) {
      const op = (tokens[pos++] as { op: string }).op;
      v = op === '*' ? v * unary() : v / unary();
    }
    return v;
  };
  const unary = (): number => {
    if (isOp('-')) {
      pos++;
      return -unary();
    }
    if (isOp('+')) {
      pos++;
      return unary();
    }
    return power();
  };
  const power = (): number => {
    const base = atom();
    if (isOp('^')) {
      pos++;
      return base ** unary();
    }
    return base;
  };
  const atom = (): number => {
    const t = peek();
    if (!t) throw new SyntaxError(`${field}: unexpected end of "${text}"`);
    pos++;
    if (t.kind === 'num') return t.value;
    if (t.kind === 'id') {
      if (isOp('(')) {
        const fn = FUNCTIONS[t.name];
        if (!fn) throw new RangeError(`${field}: unknown function "${t.name}" in "${text}"; allowed: ${Object.keys(FUNCTIONS).join(', ')}`);
        pos++;
        const args = [expr()];
        while (isOp(',')) {
          pos++;
          args.push(expr());
        }
        expect(')');
        if (args.length !== fn.arity)
          throw new RangeError(`${field}: ${t.name} takes ${fn.arity} argument(s), got ${args.length} in "${text}"`);
        return fn.f(...args);
      }
      return variable(t.name);
    }
    if (t.op === '(') {
      const v = expr();
      expect(')');
      return v;
    }
    throw new SyntaxError(`${field}: unexpected "${t.op}" in "${text}"`);
  };
  const value = expr();
  if (pos !== tokens.length) throw new SyntaxError(`${field}: unexpected trailing input in "${text}"`);
  return value;
}

/** A learning rate's value (number or expression), checked finite and ≥ 0. */
export function resolveLearningRate(lr: LearningRate, dims: ProblemDims, field = 'lr'): number {
  const value = typeof lr === 'number' ? lr : evaluateExpression(lr, dims, field);
  if (!Number.isFinite(value))
    throw new RangeError(`${field}: must be a finite number, got ${value}${typeof lr === 'string' ? ` from "${lr}"` : ''}`);
  if (value < 0) throw new RangeError(`${field}: learning rate must be ≥ 0, got ${value}${typeof lr === 'string' ? ` from "${lr}"` : ''}`);
  return value;
}

/** The resolved schedule: what the run-parameters buffer holds (lr, lrBase, lrGrowth) plus a list. */
export interface ResolvedSchedule {
  kind: 'constant' | 'geometric' | 'list';
  /** η_1. */
  initial: number;
  /** g (1 unless geometric). */
  growth: number;
  /** Per-step values for `list` (the host writes runs[r].lr before each step). */
  values?: number[];
}

/**
 * Resolves a schedule for a run of `steps` steps; a list shorter than the steps is an error.
 *
 * @example
 * resolveSchedule({ kind: 'geometric', lr: '0.01*sqrt(d)', growth: 1.1 }, { d_in: 64, d_out: 64, N: 10 }, 20);
 */
export function resolveSchedule(schedule: LearningRateSchedule, dims: ProblemDims, steps?: number, field = 'lr'): ResolvedSchedule {
  if (typeof schedule === 'number' || typeof schedule === 'string') {
    return { kind: 'constant', initial: resolveLearningRate(schedule, dims, field), growth: 1 };
  }
  if (schedule.kind === 'constant') return { kind: 'constant', initial: resolveLearningRate(schedule.lr, dims, `${field}.lr`), growth: 1 };
  if (schedule.kind === 'geometric') {
    if (!(schedule.growth > 0) || !Number.isFinite(schedule.growth)) {
      throw new RangeError(`${field}.growth: must be a finite number > 0, got ${schedule.growth}`);
    }
    return { kind: 'geometric', initial: resolveLearningRate(schedule.lr, dims, `${field}.lr`), growth: schedule.growth };
  }
  if (schedule.kind === 'list') {
    if (schedule.values.length === 0) throw new RangeError(`${field}.values: the list is empty`);
    if (steps !== undefined && schedule.values.length < steps) {
      throw new RangeError(`${field}.values: the list has ${schedule.values.length} learning rates but the run takes ${steps} steps`);
    }
    const values = schedule.values.map((v, i) => resolveLearningRate(v, dims, `${field}.values[${i}]`));
    return { kind: 'list', initial: values[0], growth: 1, values };
  }
  throw new RangeError(`${field}.kind: unknown schedule "${(schedule as { kind: string }).kind}"; allowed: constant, geometric, list`);
}

/** η_t for step t = 1, 2, … (the CPU side of the schedule; the GPU advances lr by lrGrowth). */
export function learningRateAt(s: ResolvedSchedule, t: number): number {
  if (s.kind === 'list') {
    if (!s.values || t > s.values.length)
      throw new RangeError(`lr.values: no learning rate for step ${t} (list of ${s.values?.length ?? 0})`);
    return s.values[t - 1];
  }
  return s.initial * s.growth ** (t - 1);
}
