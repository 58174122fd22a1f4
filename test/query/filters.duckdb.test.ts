import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildQuery, decodeSearchRow, type LogFilter, type SearchRecord } from '../../src/query';
import { runDuckDb } from '../../src/query/duckdb';
import {
  type CompareOp,
  type Condition,
  levelRank,
  parseCondition,
  typedCondition,
} from '../../src/query/fields';
import { LEVELS, type Level } from '../../src/schema';
import { memoryLake, record } from '../helpers/records';

const tables = [{ table: 'logs' }];
const day = { since: new Date('2026-11-22T00:00:00Z'), until: new Date('2026-11-23T00:00:00Z') };
const base = Date.parse('2026-11-22T10:00:00Z');

async function search(lake: Awaited<ReturnType<typeof memoryLake>>, filter: Partial<LogFilter>) {
  const built = buildQuery(
    { kind: 'search', filter: { ...day, ...filter }, order: 'asc' },
    { dialect: 'duckdb', tables },
  );
  return (await runDuckDb(lake.connection, built)).map((r) => decodeSearchRow(built.columns, r));
}

const where = (...exprs: string[]) => ({ where: exprs.map((e) => parseCondition(e, new Date(base))) });

describe('search filters on DuckDB', () => {
  const records = [
    record({
      timestamp: '2026-11-22T10:00:00.000Z',
      correlation_id: 'a1',
      level: 'ERROR',
      service: 'agents',
      message: 'tool call failed',
      stack_trace: 'TimeoutError: upstream took 30s\n    at call (tool.ts:12)',
      error_type: 'TimeoutError',
      duration_ms: 30_000,
      http_status: 504,
      attributes: { 'context.agent_id': 'agent_coder', model: 'gpt-4o', tokens: '1200' },
    }),
    record({
      timestamp: '2026-11-22T10:01:00.000Z',
      correlation_id: 'a2',
      level: 'INFO',
      service: 'agents',
      message: 'Tool call ok',
      duration_ms: 800,
      http_status: 200,
      attributes: { 'context.agent_id': 'agent_reviewer', model: 'gpt-4o-mini', tokens: 'n/a' },
    }),
    record({
      timestamp: '2026-11-22T10:02:00.000Z',
      correlation_id: 'a3',
      level: 'WARN',
      service: 'agents',
      message: 'retrying TOOL call',
      duration_ms: null,
      http_status: null,
      attributes: { 'context.agent_id': 'agent_coder', "it's": "o'k", tokens: '99' },
      redactions: { email: 2 },
    }),
    record({
      timestamp: '2026-11-22T10:03:00.000Z',
      correlation_id: 'a4',
      level: 'CRITICAL',
      service: 'billing',
      message: 'charge declined',
      stack_trace: null,
      error_type: 'CardError',
      duration_ms: 120.5,
      attributes: {},
    }),
  ];
  let lake: Awaited<ReturnType<typeof memoryLake>>;
  beforeAll(async () => {
    lake = await memoryLake(records);
  });
  afterAll(() => lake.close());

  const ids = (rs: SearchRecord[]) => rs.map((r) => r.correlation_id);

  it.each<[string, string[], string[]]>([
    [
      'an attribute key holding dots, with a level',
      ['attributes.context.agent_id=agent_coder'],
      ['a1', 'a3'],
    ],
    ['!= keeps events without the field', ['error_type!=TimeoutError'], ['a2', 'a3', 'a4']],
    ['a number column', ['duration_ms>=800'], ['a1', 'a2']],
    ['two conditions, both must hold', ['duration_ms<1000', 'http_status=200'], ['a2']],
    ['an int column compared as a number', ['http_status>=500'], ['a1']],
    ['an attribute read as a number, non-numbers left out', ['attributes.tokens>100'], ['a1']],
    ['an attribute compared as text', ['attributes.model>gpt-4o'], ['a2']],
    ['a quoted key holding a quote', ['attributes."it\'s"=o\'k'], ['a3']],
    ['a map of counts', ['redactions.email>=1'], ['a3']],
    ['levels by severity, not by name', ['level>=WARN'], ['a1', 'a3', 'a4']],
    ['levels below', ['level<ERROR'], ['a2', 'a3']],
    ['a time', ['timestamp>=2026-11-22T10:02Z'], ['a3', 'a4']],
    ['a substring, any case', ['message~TOOL CALL'], ['a1', 'a2', 'a3']],
    ['a substring of an attribute', ['attributes.model~mini'], ['a2']],
    ['a missing attribute matches no ordering', ['attributes.nosuch<zzz'], []],
  ])('--where: %s', async (_, exprs, want) => {
    expect(ids(await search(lake, where(...exprs)))).toEqual(want);
  });

  it('anyOf: events any one group holds for in full, besides the other conditions', async () => {
    // Arrange
    const anyOf = (...groups: string[][]) => ({
      anyOf: groups.map((g) => g.map((e) => parseCondition(e, new Date(base)))),
    });

    // Act
    const either = await search(lake, anyOf(['http_status=504'], ['error_type=CardError']));
    const grouped = await search(lake, anyOf(['service=agents', 'level=WARN'], ['duration_ms>100000']));
    const narrowed = await search(lake, {
      ...anyOf(['http_status=504'], ['error_type=CardError']),
      services: ['billing'],
    });

    // Assess
    expect(ids(either)).toEqual(['a1', 'a4']);
    expect(ids(grouped)).toEqual(['a3']);
    expect(ids(narrowed)).toEqual(['a4']);
  });

  it.each([[[]], [[[]]]])('anyOf %j is refused, naming it', (anyOf) => {
    // Act + Assess
    expect(() =>
      buildQuery({ kind: 'search', filter: { ...day, anyOf } }, { dialect: 'duckdb', tables }),
    ).toThrow(/anyOf: an empty list of alternatives, or an empty alternative/);
  });

  it('matches free text in the stack trace as well as the message', async () => {
    // Act
    const inTrace = await search(lake, { text: 'upstream took' });
    const inMessage = await search(lake, { text: 'DECLINED' });

    // Assess
    expect(ids(inTrace)).toEqual(['a1']);
    expect(ids(inMessage)).toEqual(['a4']);
  });

  it('respects case only when asked, for text, ~ and regular expressions alike', async () => {
    // Act
    const text = await search(lake, { text: 'Tool', caseSensitive: true });
    const tilde = await search(lake, { ...where('message~TOOL'), caseSensitive: true });
    const regex = await search(lake, { regex: '^tool call (ok|failed)$' });
    const regexCase = await search(lake, { regex: '^tool call (ok|failed)$', caseSensitive: true });
    const inTrace = await search(lake, { regex: 'took \\d+s' });

    // Assess
    expect(ids(text)).toEqual(['a2']);
    expect(ids(tilde)).toEqual(['a3']);
    expect(ids(regex)).toEqual(['a1', 'a2']);
    expect(ids(regexCase)).toEqual(['a1']);
    expect(ids(inTrace)).toEqual(['a1']);
  });
});

// Values drawn from a small alphabet rich in SQL metacharacters, so conditions and records collide often.
const piece = fc.constantFrom('a', 'B', "'", '%', '_', '\\', '"', ';', '?', ' ', 'é', '1', '2.5', '-3');
const text = fc.array(piece, { minLength: 1, maxLength: 3 }).map((p) => p.join(''));
const keys = ['k', "it's", 'a.b'] as const;
const recordArb = fc
  .record({
    minute: fc.integer({ min: 0, max: 59 }),
    level: fc.constantFrom(...LEVELS),
    service: text,
    message: text,
    duration: fc.option(fc.integer({ min: 0, max: 2000 }), { nil: null }),
    attributes: fc.dictionary(fc.constantFrom(...keys), text, { maxKeys: 3 }),
  })
  .map((g) =>
    record({
      timestamp: new Date(base + g.minute * 60_000).toISOString(),
      level: g.level,
      service: g.service,
      message: g.message,
      duration_ms: g.duration,
      attributes: g.attributes,
    }),
  );

type Field = 'service' | 'message' | 'duration_ms' | 'level' | `attributes.${(typeof keys)[number]}`;

/** What a typed condition means, written plainly in JS: the reference the SQL must agree with. */
function holds(r: SearchRecord, c: Condition): boolean {
  const v: unknown =
    c.field.key === undefined ? r[c.field.column as keyof SearchRecord] : r.attributes[c.field.key];
  if (c.op === '~') return typeof v === 'string' && v.toLowerCase().includes(String(c.value).toLowerCase());
  if (c.op === '=' || c.op === '!=') {
    const same =
      v !== null && v !== undefined && (typeof c.value === 'number' ? Number(v) === c.value : v === c.value);
    return c.op === '=' ? same : !same;
  }
  if (v === null || v === undefined) return false;
  const cmp = (a: number | string, b: number | string) =>
    c.op === '>' ? a > b : c.op === '>=' ? a >= b : c.op === '<' ? a < b : a <= b;
  if (c.field.column === 'level') return cmp(levelRank(v as Level), levelRank(c.value as Level));
  if (typeof c.value === 'number') {
    const n =
      typeof v === 'number' ? v : /^\s*[+-]?(\d+\.?\d*|\.\d+)\s*$/.test(String(v)) ? Number(v) : Number.NaN;
    return !Number.isNaN(n) && cmp(n, c.value);
  }
  return cmp(String(v), String(c.value));
}

const conditionArb = (records: readonly SearchRecord[]) => {
  const fields: readonly Field[] = [
    'service',
    'message',
    'duration_ms',
    'level',
    ...keys.map((k) => `attributes.${k}` as const),
  ];
  const values = [...records.flatMap((r) => [r.service, r.message, ...Object.values(r.attributes)]), 'x'];
  return fc
    .record({
      field: fc.constantFrom(...fields),
      op: fc.constantFrom<CompareOp>('=', '!=', '>', '>=', '<', '<=', '~'),
      text: fc.constantFrom(...values),
      number: fc.integer({ min: -5, max: 2000 }),
      level: fc.constantFrom(...LEVELS),
    })
    .filter((g) => !(g.op === '~' && g.field === 'duration_ms'))
    .map((g): Condition => {
      const key = g.field.startsWith('attributes.') ? g.field.slice('attributes.'.length) : undefined;
      const field = key === undefined ? { column: g.field } : { column: 'attributes', key };
      const value =
        g.field === 'duration_ms' ? g.number : g.field === 'level' ? g.level : g.op === '~' ? g.text : g.text;
      return { field, op: g.op, value: g.field === 'level' && g.op === '~' ? g.level.toLowerCase() : value };
    });
};

describe('numbers written as text', () => {
  it('are read as Athena reads them: plain decimals only, not 1_1, inf or nan', async () => {
    // Prepare: DuckDB's own cast reads all of these; Athena's (Trino's) only the plain ones.
    const texts = ['1_1', '2.5_1', 'inf', 'nan', ' 12 ', '1e3', '-3', '6.'];
    const lake = await memoryLake(
      texts.map((k, i) =>
        record({ timestamp: '2026-11-22T10:00:00.000Z', correlation_id: `t${i}`, attributes: { k } }),
      ),
    );
    try {
      // Act
      const over = await search(lake, where('attributes.k>5'));
      const under = await search(lake, where('attributes.k<5'));

      // Assess
      const named = (rs: SearchRecord[]) => rs.map((r) => r.attributes.k).sort();
      expect(named(over)).toEqual([' 12 ', '1e3', '6.']);
      expect(named(under)).toEqual(['-3']);
    } finally {
      lake.close();
    }
  });
});

describe('--where on DuckDB, against its plain meaning', () => {
  it('returns exactly the events every condition holds for, whatever characters keys and values hold', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .array(recordArb, { maxLength: 30 })
          .map((rs) => rs.map((r, i) => ({ ...r, correlation_id: `n${i}` })))
          .chain((rs) =>
            fc.tuple(fc.constant(rs), fc.array(conditionArb(rs), { minLength: 1, maxLength: 2 })),
          ),
        async ([records, conditions]) => {
          // Prepare
          const lake = await memoryLake(records);
          try {
            // Act
            const got = (await search(lake, { where: conditions })).map((r) => r.correlation_id).sort();

            // Assess
            const want = records
              .filter((r) => conditions.every((c) => holds(r, typedCondition(c))))
              .map((r) => r.correlation_id)
              .sort();
            expect(got).toEqual(want);
          } finally {
            lake.close();
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
