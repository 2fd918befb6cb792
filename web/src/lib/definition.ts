// Generic editing of a strategy `definition` JSON (UI-6): flattening it into typed leaves for a
// form, client-side validation, rebuilding the JSON, and mapping an API error `field` to a leaf.
import { normalizeAmount } from './format';
import type { Json, JsonObject } from './types';

export type LeafKind = 'number' | 'boolean' | 'string' | 'null';
export type PathPart = string | number;

export interface Leaf {
  key: string;
  path: PathPart[];
  kind: LeafKind;
  /** The edited text of number and string leaves. */
  text: string;
  /** The edited state of boolean leaves. */
  checked: boolean;
  /** A KRW amount (its name says `krw`): shown with thousands separators, validated as money. */
  money: boolean;
  /** A string leaf holding an exact decimal ("0.03"): edited as text, validated as a number, kept a string. */
  decimal: boolean;
}

const DECIMAL_TEXT = /^\d+(\.\d+)?$/;
const SIGNED_DECIMAL_TEXT = /^-?\d+(\.\d+)?$/;

/** Whether a leaf at `path` holds a KRW amount: its own name has a `krw` word ("seed_krw", "min_value_krw_24h"). */
export function isMoneyPath(path: PathPart[]): boolean {
  const last = path[path.length - 1];
  return typeof last === 'string' && /(^|_)krw($|_)/i.test(last);
}

export function pathKey(path: PathPart[]): string {
  return path.map(String).join('.');
}

export function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Every scalar inside `value`, keyed by its dotted path ("weights.tp", "markets.0"). */
export function flattenLeaves(value: Json, path: PathPart[] = [], out: Record<string, Leaf> = {}): Record<string, Leaf> {
  if (Array.isArray(value)) {
    value.forEach((v, i) => flattenLeaves(v, [...path, i], out));
  } else if (isObject(value)) {
    for (const [k, v] of Object.entries(value)) flattenLeaves(v, [...path, k], out);
  } else {
    const key = pathKey(path);
    const kind: LeafKind =
      value === null ? 'null' : typeof value === 'number' ? 'number' : typeof value === 'boolean' ? 'boolean' : 'string';
    const text = kind === 'number' || kind === 'string' ? String(value) : '';
    out[key] = {
      key,
      path,
      kind,
      text,
      checked: value === true,
      // A money string keeps its decimal-string form; other strings stay free text.
      money: isMoneyPath(path) && (kind === 'number' || (kind === 'string' && DECIMAL_TEXT.test(text))),
      decimal: kind === 'string' && SIGNED_DECIMAL_TEXT.test(text),
    };
  }
  return out;
}

/** A plain-words problem with one edited leaf, or null. */
export function leafProblem(leaf: Pick<Leaf, 'kind' | 'text'> & { money?: boolean; decimal?: boolean }): string | null {
  if (leaf.money === true && leaf.kind === 'string') {
    const t = normalizeAmount(leaf.text);
    if (t === '') return 'Required: enter an amount in KRW.';
    if (!DECIMAL_TEXT.test(t)) return 'Must be an amount in KRW: digits only, for example 1000000.';
    return null;
  }
  if (leaf.decimal === true && leaf.kind === 'string') {
    const t = leaf.text.trim();
    if (t === '') return 'Required: enter a number.';
    if (!SIGNED_DECIMAL_TEXT.test(t)) return 'Must be a plain decimal number, for example 0.03.';
    return null;
  }
  if (leaf.kind !== 'number') return null;
  const t = leaf.text.trim();
  if (t === '') return 'Required: enter a number.';
  if (!/^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t) || !Number.isFinite(Number(t))) return 'Must be a number.';
  if (leaf.money === true && Number(t) < 0) return 'An amount in KRW cannot be negative.';
  return null;
}

/** Problems of every leaf, keyed like the leaves. */
export function validateLeaves(leaves: Record<string, Leaf>): Record<string, string> {
  const problems: Record<string, string> = {};
  for (const leaf of Object.values(leaves)) {
    const p = leafProblem(leaf);
    if (p !== null) problems[leaf.key] = p;
  }
  return problems;
}

function setIn(target: Json, path: PathPart[], value: Json): void {
  let cur: Json = target;
  for (let i = 0; i < path.length - 1; i += 1) {
    const part = path[i];
    if (Array.isArray(cur) && typeof part === 'number') cur = cur[part];
    else if (isObject(cur) && typeof part === 'string') cur = cur[part];
    else return;
  }
  const last = path[path.length - 1];
  if (Array.isArray(cur) && typeof last === 'number') cur[last] = value;
  else if (isObject(cur) && typeof last === 'string') cur[last] = value;
}

/** The definition with every edited leaf written back, keeping the original's structure. */
export function buildDefinition(original: JsonObject, leaves: Record<string, Leaf>): JsonObject {
  const copy = JSON.parse(JSON.stringify(original)) as JsonObject; // also unwraps reactive proxies
  for (const leaf of Object.values(leaves)) {
    if (leaf.kind === 'number') setIn(copy, leaf.path, Number(leaf.text.trim()));
    else if (leaf.kind === 'boolean') setIn(copy, leaf.path, leaf.checked);
    else if (leaf.kind === 'string') setIn(copy, leaf.path, leaf.money ? normalizeAmount(leaf.text) : leaf.decimal ? leaf.text.trim() : leaf.text);
  }
  return copy;
}

/** Keys of the leaves whose value differs from the original. */
export function changedKeys(original: JsonObject, leaves: Record<string, Leaf>): string[] {
  const before = flattenLeaves(original);
  return Object.values(leaves)
    .filter((l) => {
      const b = before[l.key];
      if (b === undefined) return true;
      if (l.kind === 'boolean') return l.checked !== b.checked;
      if (l.kind === 'number') return Number(l.text.trim()) !== Number(b.text);
      if (l.money) return normalizeAmount(l.text) !== b.text;
      if (l.decimal) return l.text.trim() !== b.text;
      return l.text !== b.text;
    })
    .map((l) => l.key);
}

/**
 * An API error `field` ("definition.weights.tp", "definition/weights/tp", "weights[0]") as a leaf
 * key ("weights.tp", "weights.0").
 */
export function fieldToKey(field: string): string {
  const parts = field
    .replace(/\[(\d+)\]/g, '.$1')
    .split(/[./]/)
    .filter((p) => p !== '');
  if (parts[0] === 'definition') parts.shift();
  return parts.join('.');
}

/** A field name for people: "weights.tp" → "weights › tp". */
export function fieldLabel(key: string): string {
  return key.split('.').join(' › ');
}
