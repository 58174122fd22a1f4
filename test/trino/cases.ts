/**
 * The queries of the Trino tier: each is rendered for DuckDB and for Athena and must return the same rows
 * over the same files (`queries.test.ts`). Adding a query to the tier is one line here.
 */
import {
  type AggregateQuery,
  type ContextQuery,
  ERROR_LEVELS,
  GROUP_COLUMNS,
  type LogFilter,
  type LogQuery,
  type SearchQuery,
} from '../../src/query';
import { parseAggregate, parseCondition, parseField } from '../../src/query/fields';
import type { StreamName } from '../../src/schema';
import { type Dataset, HOUR, MINUTE } from './dataset';

export interface CaseContext {
  readonly data: Dataset;
  /** The lake's pseudonym of a raw user id (what `loglake search --user` binds). */
  readonly pseudonym: (id: string) => string;
}

export interface TierCase {
  readonly name: string;
  readonly query: (c: CaseContext) => LogQuery;
  /** Athena tables to read. @default both (the local view holds both streams) */
  readonly streams?: readonly StreamName[];
  /** The case is about an empty result. @default false: an empty result fails the case */
  readonly empty?: boolean;
}

type FilterOf = (c: CaseContext) => Partial<LogFilter>;

/** `--where` expressions, parsed as the CLI parses them. */
const where = (...exprs: string[]) => exprs.map((e) => parseCondition(e));
const aggs = (...texts: string[]) => texts.map(parseAggregate);

const all = (c: CaseContext): LogFilter => ({ since: new Date(c.data.start), until: new Date(c.data.end) });
const search = (
  name: string,
  filter: FilterOf,
  more: Partial<SearchQuery> = {},
  extra: Partial<TierCase> = {},
): TierCase => ({
  name: `search: ${name}`,
  query: (c) => ({ kind: 'search', filter: { ...all(c), ...filter(c) }, order: 'asc', ...more }),
  ...extra,
});
const stats = (
  name: string,
  more: Partial<AggregateQuery>,
  filter: FilterOf = () => ({}),
  extra: Partial<TierCase> = {},
): TierCase => ({
  name: `stats: ${name}`,
  query: (c) => ({ kind: 'aggregate', filter: { ...all(c), ...filter(c) }, ...more }),
  ...extra,
});

export const SEARCH_CASES: readonly TierCase[] = [
  search('the whole range, newest first', () => ({}), { order: 'desc' }),
  search('the whole range, oldest first, limit 25', () => ({}), { limit: 25 }),
  search('text, case-insensitive', () => ({ text: 'PAYMENT failed' })),
  search('text with a quote', () => ({ text: "it's a 'quoted'" })),
  search('text with % and _ taken literally', () => ({ text: '%_%' })),
  search('text 100% (no LIKE wildcard)', () => ({ text: '100%' })),
  search('text a_b (no LIKE wildcard)', () => ({ text: 'a_b' })),
  search('non-ASCII text, other case', () => ({ text: 'NAÏVE CAFÉ' })),
  search('CJK text', () => ({ text: '日本語' })),
  search('emoji', () => ({ text: '🚀' })),
  search('backslashes', () => ({ text: 'C:\\path' })),
  search('text that matches nothing', () => ({ text: "no 'such' %_ text" }), {}, { empty: true }),
  search('correlation id with a quote', () => ({ correlationId: "c'quote" })),
  search('correlation id with %', () => ({ correlationId: 'c%1' })),
  search('correlation id is exact, not a pattern', () => ({ correlationId: 'c_' }), {}, { empty: true }),
  search('trace id', () => ({ traceId: 't-3' })),
  search('levels', () => ({ levels: ['ERROR', 'CRITICAL'] })),
  search('services with quotes, % and non-ASCII', () => ({
    services: ["o'brien", 'pay%ments', 'café-ü', '日本-svc'],
  })),
  search(
    'categories (logs table only)',
    () => ({ categories: ['runtime', 'errors'] }),
    {},
    { streams: ['logs'] },
  ),
  search(
    'locked categories (audit table only)',
    () => ({ categories: ['security', 'audit'] }),
    {},
    { streams: ['audit'] },
  ),
  search('user ids (pseudonyms)', (c) => ({ userIds: [c.pseudonym('user-1'), c.pseudonym('user-3')] })),
  search('every filter at once', (c) => ({
    text: 'a',
    levels: ['INFO', 'WARN', 'ERROR', 'CRITICAL', 'DEBUG'],
    services: [...new Set(['checkout', "o'brien", 'café-ü', 'Search', 'pay%ments'])],
    categories: ['runtime', 'errors', 'api_access', 'framework', 'debug', 'security'],
    since: new Date(c.data.start + 3 * HOUR),
  })),
  search('one hour, inclusive since and exclusive until on the boundary', (c) => ({
    since: new Date(c.data.midnight - HOUR),
    until: new Date(c.data.midnight),
  })),
  search('across midnight, to the millisecond', (c) => ({
    since: new Date(c.data.midnight - 1),
    until: new Date(c.data.midnight + 2),
  })),
  search('one millisecond', (c) => ({
    since: new Date(c.data.midnight),
    until: new Date(c.data.midnight + 1),
  })),
  // --where, --regex, --case-sensitive (issue 12): each filter and operator on both engines.
  search('where on an attribute (=)', () => ({ where: where('attributes.tenant=ünïcode') })),
  search('where on a nested attribute, as a number (>=)', () => ({
    where: where('metrics.detail.nested>=700'),
  })),
  search('where != keeps events without the field', () => ({ where: where('error_type!=TimeoutError') })),
  search('where on a number column (<, >)', () => ({ where: where('duration_ms<100', 'duration_ms>10') })),
  search('where level ordering (>= WARN)', () => ({ where: where('level>=WARN') })),
  search('where level ordering (< INFO)', () => ({ where: where('level<INFO') })),
  search('where ~ substring, case-insensitive, with % and _ literal', () => ({
    where: where('message~%_%', 'service~PAY%'),
  })),
  search('where ~ substring, case-sensitive', () => ({
    where: where('message~Payment'),
    caseSensitive: true,
  })),
  search('where on a time (<=)', (c) => ({
    where: [{ field: { column: 'timestamp' }, op: '<=', value: new Date(c.data.midnight) }],
  })),
  search('where on a redaction count', () => ({ where: where('redactions.email>=1') })),
  search('where on an attribute read as a number, written many ways', () => ({
    where: where('attributes.amount>=5'),
  })),
  search('where on http_status (int)', () => ({ where: where('http_status>=500') })),
  search('free text in the stack trace', () => ({ text: 'x.js:13' })),
  search('free text, case-sensitive', () => ({ text: 'Payment', caseSensitive: true })),
  search('regex, case-insensitive', () => ({ regex: '^payment (failed|FAILED) .*#\\d+$' })),
  search('regex, case-sensitive', () => ({ regex: 'FAILED again #\\d{2,3}$', caseSensitive: true })),
  search('regex over the stack trace', () => ({ regex: 'at f \\(x\\.js:\\d+\\)' })),
  search('regex with non-ASCII and classes', () => ({ regex: '[äöü]|café\\s+crème' })),
  search(
    'a range with no events',
    (c) => ({
      since: new Date(c.data.start - 5 * HOUR),
      until: new Date(c.data.start - HOUR),
    }),
    {},
    { empty: true },
  ),
];

export const STATS_CASES: readonly TierCase[] = [
  stats('totals', {}),
  ...GROUP_COLUMNS.map((g) => stats(`by ${g}`, { groupBy: [g] })),
  stats('by service and level', { groupBy: ['service', 'level'], orderBy: 'group' }),
  stats('by category, http_status and http_method', { groupBy: ['category', 'http_status', 'http_method'] }),
  stats('hourly buckets', { bucketMs: HOUR }),
  stats('5-minute buckets by category', { bucketMs: 5 * MINUTE, groupBy: ['category'] }),
  stats('daily buckets by level', { bucketMs: 24 * HOUR, groupBy: ['level'] }),
  stats('error samples per service', {
    groupBy: ['service'],
    samples: 3,
    sampleLevels: ERROR_LEVELS,
    orderBy: 'errors',
  }),
  stats('samples without a level condition', { groupBy: ['category'], samples: 2 }),
  stats('error rate at least 30% with at least 5 events', {
    groupBy: ['service'],
    minCount: 5,
    minErrorRate: 0.3,
    orderBy: 'error_rate',
  }),
  stats('top 3 services', { groupBy: ['service'], orderBy: 'count', limit: 3 }),
  stats('filtered by text and level', { groupBy: ['service'] }, () => ({
    text: 'failed',
    levels: ['ERROR', 'CRITICAL'],
  })),
  stats('filtered to nothing', { groupBy: ['service'] }, () => ({ text: 'nothing matches this' }), {
    empty: true,
  }),

  // --group-by fields and --agg (issue 12): every function on both engines; percentiles within tolerance.
  stats('count, sum, avg, min, max and distinct per service', {
    groupBy: ['service'],
    aggregates: aggs(
      'count',
      'count:duration_ms',
      'sum:duration_ms',
      'avg:duration_ms',
      'min:duration_ms',
      'max:duration_ms',
      'distinct:correlation_id',
    ),
  }),
  stats('p50, p90, p95 and p99 of duration_ms per level', {
    groupBy: ['level'],
    aggregates: aggs('p50:duration_ms', 'p90:duration_ms', 'p95:duration_ms', 'p99:duration_ms'),
  }),
  stats('grouped by an attribute, aggregates of an attribute read as a number', {
    groupBy: [parseField('attributes.tenant')],
    aggregates: aggs(
      'sum:metrics.detail.nested',
      'max:metrics.detail.nested',
      'p95:metrics.detail.nested',
      'distinct:attributes.detail.flag',
    ),
  }),
  // The explorer's sidebar box of an attribute.
  stats('top 3 values of an attribute', {
    groupBy: [parseField('attributes.tenant')],
    orderBy: 'count',
    limit: 3,
  }),
  stats('grouped by an attribute and a column, min and max of text and time', {
    groupBy: [parseField('attributes.tenant'), 'category'],
    aggregates: aggs('min:service', 'max:timestamp', 'min:http_status'),
    orderBy: 'group',
  }),
  stats('aggregates of an attribute read as a number, written many ways', {
    aggregates: aggs(
      'count:attributes.amount',
      'sum:attributes.amount',
      'avg:attributes.amount',
      'p50:attributes.amount',
      'min:attributes.amount',
    ),
  }),
  stats('aggregates in hourly buckets', {
    bucketMs: HOUR,
    aggregates: aggs('avg:duration_ms', 'p90:duration_ms'),
  }),
  stats(
    'aggregates with --where and --regex',
    { groupBy: ['service'], aggregates: aggs('sum:duration_ms') },
    () => ({
      where: where('attributes.tenant!=acme'),
      regex: 'done|failed',
    }),
  ),
  // The shapes of the alert kinds: absence (every group of a baseline, by group, with last_seen), ratio
  // (the numerator narrowed by a bound map-key condition), percentile (at least minEvents, worst first).
  stats('alert absence: every service and category, by group', {
    groupBy: ['service', 'category'],
    orderBy: 'group',
  }),
  stats(
    'alert ratio numerator: attribute condition with a non-ASCII value',
    { groupBy: ['service'] },
    () => ({
      levels: ['ERROR', 'CRITICAL', 'WARN'],
      where: [parseCondition('attributes.tenant=ünïcode')],
    }),
  ),
];

/** `search --context N` (issue 12): neighbours by service and by correlation id. */
export const CONTEXT_CASES: readonly TierCase[] = [
  ['service', 2, 3],
  ['correlation_id', 1, 1],
].map(([by, before, after]) => ({
  name: `context: ${before} before and ${after} after each error, by ${by}`,
  query: (c: CaseContext): ContextQuery => ({
    kind: 'context',
    filter: { ...all(c), levels: ['ERROR'], text: 'failed' },
    limit: 20,
    before: Number(before),
    after: Number(after),
    by: by as ContextQuery['by'],
  }),
}));

/** `loglake patterns` (issue 12): templates counted on both engines, with and without examples. */
export const PATTERNS_CASES: readonly TierCase[] = [
  { name: 'patterns: every template', query: (c) => ({ kind: 'patterns', filter: all(c) }) },
  {
    name: 'patterns: of errors, no examples',
    query: (c) => ({
      kind: 'patterns',
      filter: { ...all(c), levels: ['ERROR', 'CRITICAL'] },
      examples: false,
    }),
  },
];
