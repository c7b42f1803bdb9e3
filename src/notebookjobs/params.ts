/**
 * The parameters form of "Run on GPU" (pure, tested): the variables of the notebook's cell tagged
 * `parameters` as editable JSON literals, checked as one types, and the `parameters` object sent to
 * `POST notebook-jobs` (only the values that differ from the notebook's defaults).
 */
import { TritonAPI } from '../api';

/** One row of the form: the parameter and the text in its input. */
export interface IParamField {
  name: string;
  /** What the input holds (a JSON literal). */
  text: string;
  /** The text the input started with (the default as JSON; "" when the default is not a literal). */
  initial: string;
  /** The default's Python source, shown as placeholder/hint. */
  source: string;
  literal: boolean;
  type: string | null;
  help: string | null;
}

export type ParseResult = { ok: true; value: unknown } | { ok: false; error: string };

/**
 * A value typed in the form: JSON (`5`, `"text"`, `[1, 2]`, `{"a": 1}`, `true`, `null`), plus
 * Python's spellings people type out of habit: True, False, None, and 'single-quoted' strings.
 */
export function parseLiteral(text: string): ParseResult {
  const t = text.trim();
  if (!t) {
    return { ok: false, error: 'give a value (JSON, e.g. 5, "text", [1, 2])' };
  }
  const python: { [word: string]: unknown } = { True: true, False: false, None: null };
  if (t in python) {
    return { ok: true, value: python[t] };
  }
  if (/^'(?:[^'\\]|\\.)*'$/.test(t)) {
    // 'text' -> "text": swap the quotes, keeping escaped ones.
    const inner = t.slice(1, -1).replace(/\\'/g, "'").replace(/"/g, '\\"');
    try {
      return { ok: true, value: JSON.parse(`"${inner}"`) };
    } catch {
      // fall through to the JSON message
    }
  }
  try {
    return { ok: true, value: JSON.parse(t) };
  } catch {
    if (/^[A-Za-z_][\w .,:/-]*$/.test(t) && !/^(true|false|null)$/i.test(t)) {
      return { ok: false, error: `a string needs quotes: "${t}"` };
    }
    return { ok: false, error: 'not a JSON value (e.g. 5, 0.1, "text", [1, 2], {"a": 1}, true, null)' };
  }
}

/** The JSON type name of a value, in Python's words (int, float, str, bool, list, dict, None). */
export function pythonType(value: unknown): string {
  if (value === null || value === undefined) {
    return 'None';
  }
  if (typeof value === 'boolean') {
    return 'bool';
  }
  if (typeof value === 'number') {
    return Number.isInteger(value) ? 'int' : 'float';
  }
  if (typeof value === 'string') {
    return 'str';
  }
  return Array.isArray(value) ? 'list' : 'dict';
}

/** The form's rows for the parameters the server read from the notebook. */
export function paramFields(parameters: TritonAPI.INotebookParameter[]): IParamField[] {
  return parameters.map(p => {
    const initial = p.literal ? (JSON.stringify(p.default) ?? '') : '';
    return {
      name: p.name,
      text: initial,
      initial,
      source: p.source,
      literal: p.literal,
      type: p.type ?? null,
      help: p.help ?? null
    };
  });
}

export interface IParamsResult {
  /** The values to send: only those that differ from the notebook's defaults. */
  parameters: { [name: string]: unknown };
  /** name -> message, for the inputs that cannot be read. */
  errors: { [name: string]: string };
  /** name -> a gentle note (the value's type differs from the default's); does not block. */
  notes: { [name: string]: string };
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Read every row: a non-literal default left empty keeps the notebook's own expression. */
export function parametersFromFields(fields: IParamField[]): IParamsResult {
  const result: IParamsResult = { parameters: {}, errors: {}, notes: {} };
  for (const field of fields) {
    if (!field.literal && !field.text.trim()) {
      continue; // keeps `x = some_call()` as written
    }
    const parsed = parseLiteral(field.text);
    if (!parsed.ok) {
      result.errors[field.name] = parsed.error;
      continue;
    }
    if (field.literal && field.initial && same(parsed.value, JSON.parse(field.initial))) {
      continue; // unchanged: the notebook's default applies
    }
    result.parameters[field.name] = parsed.value;
    const expected = field.type;
    const got = pythonType(parsed.value);
    const numeric = expected === 'float' && got === 'int';
    if (expected && KNOWN_TYPES.has(expected) && expected !== got && !numeric && expected !== 'None') {
      result.notes[field.name] = `the default is ${expected}; this is ${got}`;
    }
  }
  return result;
}

const KNOWN_TYPES = new Set(['int', 'float', 'str', 'bool', 'list', 'dict', 'None']);

/** "n=5, lr=0.1" for a notification or a title (long values shortened). */
export function describeParameters(parameters: { [name: string]: unknown }, max = 60): string {
  const text = Object.entries(parameters)
    .map(([name, value]) => `${name}=${JSON.stringify(value)}`)
    .join(', ');
  return text.length > max ? text.slice(0, max - 1) + '…' : text;
}
