/**
 * A form generated from the experiment config's JSON Schema (z.toJSONSchema of the zod schema, so
 * the form follows the schema as it grows): objects become fieldsets, enums selects, booleans
 * checkboxes, numbers and strings inputs with the schema's bounds, discriminated unions (`kind`) a
 * select that switches the branch, arrays of numbers a comma-separated list, arrays of objects a
 * list with add/remove. Anything the walker has no widget for (learning-rate expressions or
 * schedules, `orth`, sweep values, an optimizer's extra keys) is edited as JSON in a one-line input.
 * The form edits a copy of the value and reports every change; validation is the editor's job.
 */

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  pattern?: string;
  description?: string;
  additionalProperties?: JsonSchema | boolean;
}

type Path = (string | number)[];
type Json = unknown;

/** Called with the whole edited value; `structural` when the form's shape changed (re-render it). */
export type FormChange = (value: Json, structural: boolean) => void;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function isObject(v: Json): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function setAt(root: Json, path: Path, value: Json | undefined): void {
  let node = root as Record<string | number, Json>;
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i];
    if (!isObject(node[key]) && !Array.isArray(node[key])) node[key] = typeof path[i + 1] === 'number' ? [] : {};
    node = node[key] as Record<string | number, Json>;
  }
  const last = path[path.length - 1];
  if (value === undefined) {
    if (Array.isArray(node) && typeof last === 'number') node.splice(last, 1);
    else delete node[last];
  } else node[last] = value;
}

function typeOf(s: JsonSchema): string | undefined {
  return Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
}

/** The bounds and default of a field, for its tooltip. */
function describe(s: JsonSchema): string {
  const parts: string[] = [];
  if (s.description) parts.push(s.description);
  if (s.minimum !== undefined) parts.push(`≥ ${s.minimum}`);
  if (s.exclusiveMinimum !== undefined) parts.push(`> ${s.exclusiveMinimum}`);
  if (s.maximum !== undefined && s.maximum < 2 ** 53 - 1) parts.push(`≤ ${s.maximum}`);
  if (s.exclusiveMaximum !== undefined) parts.push(`< ${s.exclusiveMaximum}`);
  if (s.pattern) parts.push(`pattern ${s.pattern}`);
  if (s.default !== undefined) parts.push(`default ${JSON.stringify(s.default)}`);
  return parts.join('; ');
}

/** The branches of a union discriminated by a `kind` constant, or null for other unions. */
function kindBranches(s: JsonSchema): JsonSchema[] | null {
  const branches = s.oneOf ?? s.anyOf;
  if (!branches || branches.length === 0) return null;
  return branches.every((b) => b.properties?.kind?.const !== undefined) ? branches : null;
}

class FormBuilder {
  constructor(
    private readonly root: Record<string, Json>,
    private readonly onChange: FormChange,
  ) {}

  private changed(path: Path, value: Json | undefined, structural = false): void {
    setAt(this.root, path, value);
    this.onChange(this.root, structural);
  }

  private field(label: string, path: Path, schema: JsonSchema, control: HTMLElement): HTMLElement {
    const row = el('label', { class: 'form-field' });
    const name = el('span', { class: 'form-label' }, label);
    const tip = describe(schema);
    if (tip) row.title = tip;
    control.setAttribute('name', path.join('.'));
    control.dataset.path = path.join('.');
    row.append(name, control);
    return row;
  }

  private jsonInput(label: string, path: Path, schema: JsonSchema, value: Json): HTMLElement {
    const input = el('input', { type: 'text', class: 'json-input', spellcheck: 'false' });
    input.value = value === undefined ? '' : JSON.stringify(value);
    input.placeholder = schema.default !== undefined ? JSON.stringify(schema.default) : 'JSON';
    input.addEventListener('change', () => {
      const text = input.value.trim();
      if (text === '') return this.changed(path, undefined);
      try {
        this.changed(path, JSON.parse(text));
      } catch {
        // Not JSON: a bare word or expression is a string (e.g. a learning rate "0.5 / d_in").
        this.changed(path, text);
      }
    });
    return this.field(label, path, schema, input);
  }

  render(schema: JsonSchema, value: Json, path: Path, label: string, required: boolean): HTMLElement {
    const branches = kindBranches(schema);
    if (branches) return this.renderKindUnion(branches, schema, value, path, label);
    if (schema.enum) return this.renderEnum(schema, value, path, label, required);
    if (schema.const !== undefined) {
      const out = el('output', {}, JSON.stringify(schema.const));
      return this.field(label, path, schema, out);
    }
    const type = typeOf(schema);
    if (type === 'object' && schema.properties) return this.renderObject(schema, value, path, label);
    if (type === 'array' && schema.items) return this.renderArray(schema, value, path, label);
    if (type === 'boolean') {
      const box = el('input', { type: 'checkbox' });
      box.checked = value === undefined ? Boolean(schema.default) : Boolean(value);
      box.addEventListener('change', () => this.changed(path, box.checked));
      return this.field(label, path, schema, box);
    }
    if (type === 'number' || type === 'integer') {
      const input = el('input', { type: 'number', step: type === 'integer' ? '1' : 'any' });
      if (schema.minimum !== undefined) input.min = String(schema.minimum);
      if (schema.maximum !== undefined && schema.maximum < 2 ** 53 - 1) input.max = String(schema.maximum);
      if (typeof value === 'number') input.value = String(value);
      else if (value !== undefined) return this.jsonInput(label, path, schema, value);
      if (schema.default !== undefined) input.placeholder = String(schema.default);
      input.addEventListener('change', () => this.changed(path, input.value === '' ? undefined : Number(input.value)));
      return this.field(label, path, schema, input);
    }
    if (type === 'string') {
      const input = el('input', { type: 'text' });
      if (typeof value === 'string') input.value = value;
      if (schema.pattern) input.pattern = schema.pattern;
      if (typeof schema.default === 'string') input.placeholder = schema.default;
      input.addEventListener('change', () => this.changed(path, input.value === '' && !required ? undefined : input.value));
      return this.field(label, path, schema, input);
    }
    return this.jsonInput(label, path, schema, value);
  }

  private renderEnum(schema: JsonSchema, value: Json, path: Path, label: string, required: boolean): HTMLElement {
    const select = el('select');
    if (!required || value === undefined)
      select.append(el('option', { value: '' }, schema.default !== undefined ? `(default: ${String(schema.default)})` : '(choose)'));
    for (const option of schema.enum!) select.append(el('option', { value: String(option) }, String(option)));
    // A value the schema does not allow stays visible (marked) instead of silently showing another.
    if (value !== undefined && !schema.enum!.some((o) => String(o) === String(value)))
      select.append(el('option', { value: String(value) }, `${String(value)} (not allowed)`));
    select.value = value === undefined ? '' : String(value);
    select.addEventListener('change', () => {
      const chosen = schema.enum!.find((o) => String(o) === select.value);
      this.changed(path, select.value === '' ? undefined : chosen);
    });
    return this.field(label, path, schema, select);
  }

  private renderKindUnion(branches: JsonSchema[], schema: JsonSchema, value: Json, path: Path, label: string): HTMLElement {
    const current = isObject(value) ? value : isObject(schema.default) ? schema.default : {};
    const branch = branches.find((b) => b.properties!.kind.const === current.kind) ?? branches[0];
    const set = el('fieldset', { class: 'form-group' });
    set.append(el('legend', {}, label));
    const select = el('select');
    for (const b of branches) select.append(el('option', { value: String(b.properties!.kind.const) }, String(b.properties!.kind.const)));
    select.value = String(branch.properties!.kind.const);
    // A new kind starts from its required fields only; the editor then lists what is missing.
    select.addEventListener('change', () => this.changed(path, { kind: select.value }, true));
    set.append(this.field('kind', [...path, 'kind'], branch.properties!.kind, select));
    for (const [key, sub] of Object.entries(branch.properties!)) {
      if (key === 'kind') continue;
      set.append(this.render(sub, current[key], [...path, key], key, branch.required?.includes(key) ?? false));
    }
    return set;
  }

  private renderObject(schema: JsonSchema, value: Json, path: Path, label: string): HTMLElement {
    const obj = isObject(value) ? value : {};
    const set = el('fieldset', { class: 'form-group' });
    if (label) set.append(el('legend', {}, label));
    const known = schema.properties!;
    for (const [key, sub] of Object.entries(known))
      set.append(this.render(sub, obj[key], [...path, key], key, schema.required?.includes(key) ?? false));
    if (schema.additionalProperties) {
      // Keys the schema only knows as "anything" (an optimizer's lr, momentum, orth…): typed by their value.
      for (const [key, v] of Object.entries(obj)) {
        if (key in known) continue;
        const guess: JsonSchema = typeof v === 'number' ? { type: 'number' } : typeof v === 'boolean' ? { type: 'boolean' } : {};
        set.append(this.render(guess, v, [...path, key], key, false));
      }
    }
    return set;
  }

  private renderArray(schema: JsonSchema, value: Json, path: Path, label: string): HTMLElement {
    const items = schema.items!;
    const list = Array.isArray(value) ? value : undefined;
    const itemType = typeOf(items);
    if (itemType === 'number' || itemType === 'integer' || (itemType === 'string' && !items.enum)) {
      const input = el('input', { type: 'text', class: 'list-input' });
      input.value = (list ?? []).map(String).join(', ');
      if (Array.isArray(schema.default)) input.placeholder = schema.default.join(', ');
      input.addEventListener('change', () => {
        const parts = input.value
          .split(',')
          .map((p) => p.trim())
          .filter((p) => p !== '');
        if (parts.length === 0) return this.changed(path, undefined);
        this.changed(path, itemType === 'string' ? parts : parts.map(Number));
      });
      return this.field(`${label} (comma-separated)`, path, schema, input);
    }
    if (itemType !== 'object') return this.jsonInput(label, path, schema, value);
    const set = el('fieldset', { class: 'form-group form-list' });
    set.append(el('legend', {}, label));
    (list ?? []).forEach((item, i) => {
      const entry = this.render(items, item, [...path, i], `${label} ${i + 1}`, true);
      const remove = el('button', { type: 'button', class: 'small', 'data-remove': [...path, i].join('.') }, 'remove');
      remove.addEventListener('click', () => this.changed([...path, i], undefined, true));
      entry.append(remove);
      set.append(entry);
    });
    const add = el('button', { type: 'button', class: 'small', 'data-add': path.join('.') }, `add ${label}`);
    add.addEventListener('click', () => {
      const last = list && list.length ? structuredClone(list[list.length - 1]) : {};
      this.changed(path, [...(list ?? []), last], true);
    });
    set.append(add);
    return set;
  }
}

/**
 * Renders the form for `value` into `container` (replacing what was there). `onChange` gets the
 * whole edited value after each change.
 *
 * @example
 * renderConfigForm(div, experimentJsonSchema() as JsonSchema, config, (v, structural) => editor.setValue(v));
 */
export function renderConfigForm(container: HTMLElement, schema: JsonSchema, value: Json, onChange: FormChange): void {
  const root = isObject(value) ? structuredClone(value) : {};
  const builder = new FormBuilder(root, onChange);
  container.replaceChildren(builder.render(schema, root, [], '', true));
}
