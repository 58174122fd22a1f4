import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors';
import {
  aggregateLabel,
  fieldLabel,
  parseAggregate,
  parseCondition,
  parseField,
} from '../../src/query/fields';
import { type LogQuery, validateQuery } from '../../src/query/model';
import { checkCaseInsensitiveRegex, checkPortableRegex, enginePattern } from '../../src/query/regex';

const now = new Date('2026-11-22T12:00:00.000Z');

describe('parseCondition', () => {
  it.each([
    [
      'attributes.context.agent_id=agent_coder',
      { field: { column: 'attributes', key: 'context.agent_id' }, op: '=', value: 'agent_coder' },
    ],
    ['duration_ms > 500', { field: { column: 'duration_ms' }, op: '>', value: 500 }],
    ['http_status>=500', { field: { column: 'http_status' }, op: '>=', value: 500 }],
    ['error_type!=Timeout', { field: { column: 'error_type' }, op: '!=', value: 'Timeout' }],
    ['message~" timed out"', { field: { column: 'message' }, op: '~', value: ' timed out' }],
    ['attributes.q=a=b', { field: { column: 'attributes', key: 'q' }, op: '=', value: 'a=b' }],
    ['attributes."a=b"~x', { field: { column: 'attributes', key: 'a=b' }, op: '~', value: 'x' }],
    ['attributes.tokens>1000', { field: { column: 'attributes', key: 'tokens' }, op: '>', value: 1000 }],
    ['attributes.tier>gold', { field: { column: 'attributes', key: 'tier' }, op: '>', value: 'gold' }],
    ['level>=warning', { field: { column: 'level' }, op: '>=', value: 'WARN' }],
    ['Service=api', { field: { column: 'service' }, op: '=', value: 'api' }],
    ['redactions.email>0', { field: { column: 'redactions', key: 'email' }, op: '>', value: 0 }],
    [
      'timestamp<15m',
      { field: { column: 'timestamp' }, op: '<', value: new Date('2026-11-22T11:45:00.000Z') },
    ],
    ['category=audit', { field: { column: 'category' }, op: '=', value: 'audit' }],
  ])('reads %j', (expr, want) => {
    // Act
    const c = parseCondition(expr, now);

    // Assess
    expect({ field: c.field, op: c.op, value: c.value }).toEqual(want);
    expect(c.text).toBe(expr);
  });

  it.each([
    ['service', /expected FIELD OP VALUE/],
    ['=x', /no field before the operator/],
    ['nosuch=1', /unknown field "nosuch"/],
    ['duration_ms>fast', /duration_ms holds numbers; "fast" is not one/],
    ['duration_ms~5', /~ \(substring\) needs a text field; duration_ms holds numbers/],
    ['timestamp>yesterday', /cannot understand "yesterday"/],
    ['level=LOUD', /unknown level "LOUD"/],
    ['attributes=x', /attributes is a map: name one of its keys/],
    ['service.x=1', /service is not a map/],
    ['schema_errors~x', /schema_errors is a list/],
    ['message~', /~ needs a non-empty text/],
    ['service!x', /expected FIELD OP VALUE/],
  ])('refuses %j, naming the expression', (expr, why) => {
    // Act
    const act = () => parseCondition(expr, now);

    // Assess
    expect(act).toThrow(InputError);
    expect(act).toThrow(why);
    expect(act).toThrow(`--where ${JSON.stringify(expr)}`);
  });
});

describe('parseField and parseAggregate', () => {
  it('round-trips field labels, quoting keys that need it', () => {
    expect(fieldLabel(parseField('attributes.context.agent_id'))).toBe('attributes.context.agent_id');
    expect(fieldLabel(parseField('attributes."a b"'))).toBe('attributes."a b"');
    expect(fieldLabel(parseField('DURATION_MS'))).toBe('duration_ms');
  });

  it.each([
    ['count', 'count'],
    ['count:user_id', 'count(user_id)'],
    ['P95:duration_ms', 'p95(duration_ms)'],
    ['sum:redactions.email', 'sum(redactions.email)'],
    ['avg:attributes.tokens', 'avg(attributes.tokens)'],
    ['max:timestamp', 'max(timestamp)'],
    ['distinct:service', 'distinct(service)'],
  ])('reads --agg %j as %s', (text, label) => {
    expect(aggregateLabel(parseAggregate(text))).toBe(label);
  });

  it.each([
    ['median:duration_ms', /unknown function "median"/],
    ['sum', /--agg sum: name a field, e.g. sum:duration_ms/],
    ['p95:timestamp', /p95 needs numbers; timestamp holds times/],
    ['avg:nosuch', /--agg "avg:nosuch": unknown field "nosuch"/],
  ])('refuses --agg %j', (text, why) => {
    expect(() => parseAggregate(text)).toThrow(why);
  });
});

describe('checkPortableRegex', () => {
  it.each([
    'timeout after \\d+ ?ms',
    '^payment (failed|declined)$',
    '[A-Z][a-z_0-9]{2,8}Error',
    '(?:GET|POST) /api/v\\d+/orders/\\d+',
    'a.*?b',
    '\\[warn\\]',
    '[^\\s,]+',
    'x{3}',
  ])('accepts %j', (pattern) => {
    expect(() => checkPortableRegex(pattern)).not.toThrow();
  });

  it.each([
    ['(a)\\1', /backreference/],
    ['foo(?=bar)', /lookahead/],
    ['(?<!x)y', /lookbehind/],
    ['(?<name>x)', /a named group/],
    ['(?P<name>x)', /a named group/],
    ['(?i)abc', /an inline flag group/],
    ['(?>x)', /an atomic group/],
    ['a++', /a possessive quantifier/],
    ['[[:alpha:]]', /a POSIX class/],
    ['\\p{L}', /escape \\p/],
    ['\\Qa.b\\E', /escape \\Q/],
    ['a{2,1}', /maximum is below its minimum/],
    ['(ab', /an unclosed \(/],
    ['ab)', /an unmatched \)/],
    ['*a', /nothing to repeat/],
    ['[abc', /an unclosed \[/],
    ['a{x}', /not a repetition/],
    ['\\', /a trailing backslash/],
  ])('refuses %j, naming the construct', (pattern, why) => {
    // Act
    const act = () => checkPortableRegex(pattern);

    // Assess
    expect(act).toThrow(InputError);
    expect(act).toThrow(why);
  });
});

describe('checkCaseInsensitiveRegex', () => {
  it.each(['straße', 'ẞ', 'ﬁle', 'İstanbul'])(
    'refuses %j, whose case folding is several characters (Athena matches ß with ss, DuckDB not)',
    (pattern) => {
      // Act
      const act = () => checkCaseInsensitiveRegex(pattern);

      // Assess
      expect(act).toThrow(InputError);
      expect(act).toThrow(/folds to .* --case-sensitive/);
    },
  );

  it.each(['strasse', 'Grösse', 'ΣΊΣΥΦΟΣ ς', '日本語 🚀', 'naïve café'])('accepts %j', (pattern) => {
    expect(() => checkCaseInsensitiveRegex(pattern)).not.toThrow();
  });

  it('is checked for a case-insensitive --regex only', () => {
    // Arrange
    const query = (caseSensitive: boolean): LogQuery => ({
      kind: 'search',
      filter: { since: now, until: new Date(now.getTime() + 1), regex: 'straße', caseSensitive },
    });

    // Act / Assess
    expect(() => validateQuery(query(false))).toThrow(/ß at position 5/);
    expect(() => validateQuery(query(true))).not.toThrow();
  });
});

describe('enginePattern', () => {
  const boundary = '(?-i:(?<=[0-9A-Za-z_])(?![0-9A-Za-z_])|(?<![0-9A-Za-z_])(?=[0-9A-Za-z_]))';
  const inner = '(?-i:(?<=[0-9A-Za-z_])(?=[0-9A-Za-z_])|(?<![0-9A-Za-z_])(?![0-9A-Za-z_]))';

  it.each([
    // RE2's \b and \B are ASCII word boundaries; Athena's (Joni) count non-ASCII letters as word characters.
    ['\\bcaf\\b', `${boundary}caf${boundary}`],
    ['a\\Bé', `a${inner}é`],
    // RE2's $ is the end of the text; Joni's also matches before a final line break.
    ['done$', 'done\\z'],
    ['(a$|b)', '(a\\z|b)'],
    // Escaped, and inside classes, they stay as written.
    ['\\$\\\\b[$\\]b]\\.', '\\$\\\\b[$\\]b]\\.'],
    ['\\d+ ms', '\\d+ ms'],
  ])('renders %j for Athena as %j', (pattern, athena) => {
    expect(enginePattern(pattern, true, 'athena')).toBe(athena);
    expect(enginePattern(pattern, false, 'athena')).toBe(`(?i)${athena}`);
  });

  it('leaves the pattern as written for DuckDB (RE2)', () => {
    expect(enginePattern('\\bcaf\\b$', true, 'duckdb')).toBe('\\bcaf\\b$');
    expect(enginePattern('\\bcaf\\b$', false, 'duckdb')).toBe('(?i)\\bcaf\\b$');
  });
});
