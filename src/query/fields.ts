/**
 * Fields a query can filter, group and aggregate on, and the text forms users type for them:
 *
 * - a column of the record or a partition: `service`, `duration_ms`, `timestamp`, `category` …
 * - a key of a map column: `attributes.<key>` (text), `metrics.<key>` (numbers), `redactions.<detector>`
 *   (counts). The key is everything after the first dot (`attributes.context.agent_id` is the key
 *   `context.agent_id`); a key holding an operator character is written in double quotes,
 *   `attributes."a=b"`.
 *
 * Conditions (`--where`): `FIELD OP VALUE` with OP one of `=`, `!=`, `>`, `>=`, `<`, `<=`, `~`
 * (substring). Values are typed by the field: numbers for numeric columns and metrics, times for
 * timestamps (ISO-8601, epoch ms, `now`, relative `15m`), levels for `level` (ordered DEBUG < INFO < WARN
 * < ERROR < CRITICAL), text otherwise. Pure: no SQL here; the builder renders these with bound values.
 */
import { InputError } from '../errors';
import { LEVELS, type Level, PARTITION_COLUMNS, RECORD_COLUMNS } from '../schema';
import { parseTime } from '../time';
import { levelFromName } from '../transform/level';

/** What a field's values are, for comparisons and aggregates. */
export type FieldType = 'string' | 'number' | 'timestamp';

/**
 * A column (`{ column: 'service' }`) or one key of a map column (`{ column: 'attributes', key: 'model' }`).
 * Column names are the schema's; keys are any text and always travel as bound parameters.
 */
export interface FieldRef {
  readonly column: string;
  readonly key?: string;
}

/** Comparison operators of `--where`, longest first (the parser tries them in this order). */
export const COMPARE_OPS = ['!=', '>=', '<=', '=', '>', '<', '~'] as const;
export type CompareOp = (typeof COMPARE_OPS)[number];

/** One `--where` condition, its value already typed for its field. */
export interface Condition {
  readonly field: FieldRef;
  readonly op: CompareOp;
  /** Text for text fields (and `~`), a finite number for numbers, a Date for timestamps, a level for `level`. */
  readonly value: string | number | Date;
  /** The expression as the user wrote it, for error messages. @default rendered from the parts */
  readonly text?: string;
}

/** Aggregate functions of `stats --agg FN:FIELD`. */
export const AGG_FNS = ['count', 'sum', 'avg', 'min', 'max', 'p50', 'p90', 'p95', 'p99', 'distinct'] as const;
export type AggFn = (typeof AGG_FNS)[number];

/** Percentile functions and the fraction each stands for. */
export const PERCENTILES: Readonly<Partial<Record<AggFn, number>>> = {
  p50: 0.5,
  p90: 0.9,
  p95: 0.95,
  p99: 0.99,
};

/** One aggregate: `count` (of events, or of events where the field is set), `sum:metrics.cost_usd` … */
export interface Aggregate {
  readonly fn: AggFn;
  /** Required for every function but `count`. */
  readonly field?: FieldRef;
}

interface ColumnInfo {
  readonly name: string;
  readonly type: FieldType;
  /** For map columns: the type of their values. */
  readonly mapValue?: FieldType;
}

function typeOf(hive: string): FieldType | 'array' | `map:${FieldType}` {
  if (hive === 'timestamp') return 'timestamp';
  if (hive === 'double' || hive === 'int' || hive === 'bigint' || hive === 'float') return 'number';
  const map = /^map<string,\s*(\w+)>$/.exec(hive);
  if (map?.[1]) {
    const v = typeOf(map[1]);
    return `map:${v === 'number' || v === 'timestamp' ? v : 'string'}`;
  }
  if (hive.startsWith('array<')) return 'array';
  return 'string';
}

/** Every column a field may name, from the schema (so a new column is a field at once). */
const COLUMNS: ReadonlyMap<string, ColumnInfo | 'array'> = new Map(
  [...RECORD_COLUMNS, ...PARTITION_COLUMNS].map((c): [string, ColumnInfo | 'array'] => {
    const t = typeOf(c.type);
    if (t === 'array') return [c.name, 'array'];
    if (t.startsWith('map:'))
      return [c.name, { name: c.name, type: 'string', mapValue: t.slice(4) as FieldType }];
    return [c.name, { name: c.name, type: t as FieldType }];
  }),
);

/** Map columns (`attributes`, `metrics`, `redactions` …): fields are `<column>.<key>`. */
export const MAP_COLUMNS: readonly string[] = [...COLUMNS.values()].flatMap((c) =>
  c !== 'array' && c.mapValue ? [c.name] : [],
);

/** Columns a field may name directly (every column but maps and lists). */
export const SCALAR_COLUMNS: readonly string[] = [...COLUMNS.values()].flatMap((c) =>
  c !== 'array' && !c.mapValue ? [c.name] : [],
);

/** `service`, `attributes.context.agent_id`, `attributes."a=b"` (quoted when the key needs it). */
export function fieldLabel(ref: FieldRef): string {
  if (ref.key === undefined) return ref.column;
  return `${ref.column}.${/^[^\s"=!<>~:,]+$/.test(ref.key) ? ref.key : JSON.stringify(ref.key)}`;
}

/**
 * The type of a field's values.
 * @throws InputError naming the field when it is not a column, a list column, or a map without a key.
 */
export function fieldType(ref: FieldRef): FieldType {
  const info = COLUMNS.get(ref.column);
  if (info === undefined) {
    throw new InputError(
      `unknown field ${JSON.stringify(fieldLabel(ref))}: expected a column (${SCALAR_COLUMNS.join(', ')}) or ${MAP_COLUMNS.map((m) => `${m}.<key>`).join(', ')}`,
    );
  }
  if (info === 'array') {
    throw new InputError(`field ${ref.column} is a list; it cannot be compared, grouped or aggregated`);
  }
  if (info.mapValue) {
    if (ref.key === undefined || ref.key === '') {
      throw new InputError(`field ${ref.column} is a map: name one of its keys, e.g. ${ref.column}.<key>`);
    }
    return info.mapValue;
  }
  if (ref.key !== undefined) {
    throw new InputError(
      `field ${JSON.stringify(fieldLabel(ref))}: ${ref.column} is not a map (${MAP_COLUMNS.join(', ')} are)`,
    );
  }
  return info.type;
}

/**
 * A field from its text form (column names are case-insensitive, keys are not).
 * @throws InputError naming the text when it is not a field.
 */
export function parseField(text: string): FieldRef {
  const trimmed = text.trim();
  const dot = trimmed.indexOf('.');
  const head = (dot < 0 ? trimmed : trimmed.slice(0, dot)).toLowerCase();
  let ref: FieldRef;
  if (dot < 0) ref = { column: head };
  else {
    const rest = trimmed.slice(dot + 1);
    ref = { column: head, key: rest.startsWith('"') ? unquote(rest, text) : rest };
  }
  if (ref.column === '') throw new InputError(`empty field name in ${JSON.stringify(text)}`);
  fieldType(ref);
  return ref;
}

/** A JSON string literal holding the whole of `quoted`. */
function unquote(quoted: string, context: string): string {
  try {
    const value: unknown = JSON.parse(quoted);
    if (typeof value === 'string') return value;
  } catch {
    // reported below
  }
  throw new InputError(
    `${JSON.stringify(context)}: a quoted key must be one double-quoted string, e.g. attributes."a=b"`,
  );
}

/** Where the operator of `expr` starts and which it is; outside a leading quoted key. */
function findOperator(expr: string): { at: number; op: CompareOp } | undefined {
  let i = 0;
  let quoted = false;
  for (; i < expr.length; i++) {
    const c = expr[i];
    if (quoted) {
      // Inside the quoted key a backslash escapes the next character: `"C:\\"` ends at its last quote.
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
      continue;
    }
    if (c === '"' && expr[i - 1] !== '\\') {
      quoted = true;
      continue;
    }
    if (c === '=' || c === '!' || c === '<' || c === '>' || c === '~') {
      const op = COMPARE_OPS.find((o) => expr.startsWith(o, i));
      return op === undefined ? undefined : { at: i, op };
    }
  }
  return undefined;
}

const ORDERING: ReadonlySet<CompareOp> = new Set(['>', '>=', '<', '<=']);
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/**
 * One `--where` expression: `FIELD OP VALUE`. Spaces around the operator are allowed; a value in double
 * quotes keeps its spaces (`message~" timed out"`), otherwise it is trimmed.
 * @param now - the reference of relative times (`timestamp>15m`). @default the current time
 * @throws InputError naming the expression and what is wrong with it.
 */
export function parseCondition(expr: string, now: Date = new Date()): Condition {
  const fail = (why: string): never => {
    throw new InputError(`--where ${JSON.stringify(expr)}: ${why}`);
  };
  const found = findOperator(expr);
  if (found === undefined) {
    return fail(
      'expected FIELD OP VALUE with OP one of =, !=, >, >=, <, <=, ~ (e.g. attributes.model=gpt-4o, duration_ms>500)',
    );
  }
  const fieldText = expr.slice(0, found.at).trim();
  if (fieldText === '') return fail('no field before the operator');
  let field: FieldRef;
  try {
    field = parseField(fieldText);
  } catch (error) {
    return fail((error as Error).message);
  }
  let raw = expr.slice(found.at + found.op.length).trim();
  if (raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"')) raw = unquote(raw, expr);
  return typedCondition({ field, op: found.op, value: raw, text: expr }, now);
}

/**
 * A condition whose value is typed for its field: a number for numeric fields (and for ordering a text
 * field by a number), a Date for timestamps, a level for `level`.
 * @throws InputError naming the expression when the value does not fit the field or the operator.
 */
export function typedCondition(c: Condition, now: Date = new Date()): Condition {
  const text = c.text ?? conditionText(c);
  const fail = (why: string): never => {
    throw new InputError(`--where ${JSON.stringify(text)}: ${why}`);
  };
  const type = fieldType(c.field);
  const label = fieldLabel(c.field);
  const raw = c.value;
  if (c.op === '~') {
    if (type !== 'string') return fail(`~ (substring) needs a text field; ${label} holds ${type}s`);
    if (typeof raw !== 'string' || raw === '') return fail('~ needs a non-empty text to look for');
    return { ...c, value: raw, text };
  }
  if (type === 'number') {
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' && NUMBER.test(raw) ? Number(raw) : NaN;
    if (!Number.isFinite(n)) return fail(`${label} holds numbers; ${JSON.stringify(String(raw))} is not one`);
    return { ...c, value: n, text };
  }
  if (type === 'timestamp') {
    if (raw instanceof Date) {
      if (Number.isNaN(raw.getTime())) return fail(`${label} needs a valid time`);
      return { ...c, value: raw, text };
    }
    try {
      return { ...c, value: parseTime(String(raw), label, now), text };
    } catch (error) {
      return fail((error as Error).message);
    }
  }
  if (c.field.column === 'level' && c.field.key === undefined) {
    const level = levelFromName(String(raw));
    if (level === undefined) {
      return fail(`unknown level ${JSON.stringify(String(raw))}; expected one of ${LEVELS.join(', ')}`);
    }
    return { ...c, value: level, text };
  }
  // Text: ordering by a number compares the field as a number (attributes.tokens>1000); anything else
  // compares text.
  if (ORDERING.has(c.op) && (typeof raw === 'number' || (typeof raw === 'string' && NUMBER.test(raw)))) {
    return { ...c, value: Number(raw), text };
  }
  if (typeof raw !== 'string') return fail(`${label} holds text; compare it with text`);
  return { ...c, value: raw, text };
}

/** `FIELD OP VALUE` of a condition built in code. */
export function conditionText(c: Condition): string {
  const v = c.value instanceof Date ? c.value.toISOString() : String(c.value);
  return `${fieldLabel(c.field)}${c.op}${v}`;
}

/** Rank of a level for ordering conditions (DEBUG 0 … CRITICAL 4). */
export function levelRank(level: Level): number {
  return LEVELS.indexOf(level);
}

/** `p95(duration_ms)`, `sum(metrics.cost_usd)`, `count` (of events), `count(user_id)`. */
export function aggregateLabel(a: Aggregate): string {
  return a.field === undefined ? a.fn : `${a.fn}(${fieldLabel(a.field)})`;
}

/**
 * Check an aggregate against its field's type: sum, avg and percentiles need numbers (a text field such
 * as `attributes.tokens` is read as a number, values that are not numbers left out), min and max need
 * numbers, times or text, count and distinct take any field.
 * @throws InputError naming the aggregate.
 */
export function checkAggregate(a: Aggregate): void {
  if (!(AGG_FNS as readonly string[]).includes(a.fn)) {
    throw new InputError(
      `--agg: unknown function ${JSON.stringify(a.fn)}; expected one of ${AGG_FNS.join(', ')}`,
    );
  }
  if (a.field === undefined) {
    if (a.fn !== 'count') throw new InputError(`--agg ${a.fn}: name a field, e.g. ${a.fn}:duration_ms`);
    return;
  }
  const type = fieldType(a.field);
  const numeric = a.fn === 'sum' || a.fn === 'avg' || PERCENTILES[a.fn] !== undefined;
  if (numeric && type === 'timestamp') {
    throw new InputError(
      `--agg ${a.fn}:${fieldLabel(a.field)}: ${a.fn} needs numbers; ${fieldLabel(a.field)} holds times`,
    );
  }
}

/**
 * `FN:FIELD` (or `count`) as typed after `--agg`: `sum:metrics.cost_usd`, `p95:duration_ms`, `count`.
 * @throws InputError naming the text when it is not an aggregate.
 */
export function parseAggregate(text: string): Aggregate {
  const trimmed = text.trim();
  const colon = trimmed.indexOf(':');
  const fn = (colon < 0 ? trimmed : trimmed.slice(0, colon)).toLowerCase();
  const fieldText = colon < 0 ? undefined : trimmed.slice(colon + 1);
  if (!(AGG_FNS as readonly string[]).includes(fn)) {
    throw new InputError(
      `--agg ${JSON.stringify(text)}: unknown function ${JSON.stringify(fn)}; expected FN:FIELD with FN one of ${AGG_FNS.join(', ')} (e.g. p95:duration_ms, sum:metrics.cost_usd, count)`,
    );
  }
  let agg: Aggregate;
  try {
    agg =
      fieldText === undefined || fieldText.trim() === ''
        ? { fn: fn as AggFn }
        : { fn: fn as AggFn, field: parseField(fieldText) };
    checkAggregate(agg);
  } catch (error) {
    if (error instanceof InputError && !error.message.startsWith('--agg')) {
      throw new InputError(`--agg ${JSON.stringify(text)}: ${error.message}`, { cause: error });
    }
    throw error;
  }
  return agg;
}
