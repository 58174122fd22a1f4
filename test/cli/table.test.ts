import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/alert';
import { aggregateTable, alertsTable, recordTable } from '../../src/cli/format';
import { outputColumns } from '../../src/cli/io';
import { shellWords, wrapShellCommand, wrapWords } from '../../src/cli/table';
import type { AggregateRow } from '../../src/query/decode';
import { record } from '../helpers/records';

const words = fc.array(fc.stringMatching(/^[a-z0-9.:/=-]{1,30}$/), { minLength: 1, maxLength: 40 });

describe('wrapWords', () => {
  it('keeps every line within the width and every word that fits whole, in order', () => {
    fc.assert(
      fc.property(words, fc.integer({ min: 1, max: 120 }), (ws, width) => {
        // Act
        const lines = wrapWords(ws.join(' '), width);

        // Assess
        for (const l of lines) expect(l.length).toBeLessThanOrEqual(width);
        const fitting = ws.every((w) => w.length <= width);
        if (fitting) expect(lines.join(' ')).toBe(ws.join(' '));
        else expect(lines.join('').replaceAll(' ', '')).toBe(ws.join(''));
      }),
    );
  });
});

describe('wrapShellCommand', () => {
  it('breaks between words with a backslash, so the lines are the same command', () => {
    fc.assert(
      fc.property(words, fc.integer({ min: 20, max: 120 }), (ws, width) => {
        // Prepare
        const command = ['loglake', 'search', ...ws, "'two words'"].join(' ');

        // Act
        const lines = wrapShellCommand(command, width, '    ');

        // Assess
        const pasted = lines.map((l) => l.replace(/ \\$/, '')).join(' ');
        expect(shellWords(pasted)).toEqual(shellWords(command));
        for (const l of lines) {
          if (shellWords(l.replace(/ \\$/, '')).length > 1) expect(l.length).toBeLessThanOrEqual(width);
        }
        expect(lines.at(-1)?.endsWith('\\')).toBe(false);
      }),
    );
  });
});

describe('outputColumns', () => {
  it.each([
    [{ isTTY: true, columns: 132 }, {}, 132],
    [{ isTTY: true, columns: 132 }, { columns: 80 }, 80],
    [{ isTTY: false, columns: undefined }, {}, undefined],
    [{ isTTY: false, columns: undefined }, { columns: 200 }, 200],
  ])('fits %j with env %j to %s columns', (stdout, env, expected) => {
    // Act
    const columns = outputColumns(stdout, env);

    // Assess
    expect(columns).toBe(expected);
  });
});

const uuid = '5d0f179c-7b9f-4ef1-95c2-eaa3cdcb1cd6';
const longMessage =
  'payment authorization failed for order 7781 after three retries: upstream gateway answered 502 Bad Gateway, the customer was shown the retry page';
const records = [
  record({ correlation_id: uuid, message: longMessage, level: 'ERROR', category: 'errors' }),
  record({ correlation_id: 'short-1', message: 'order placed', redactions: { email: 2 } }),
];

describe('recordTable', () => {
  it.each([80, 100, 200])(
    'fits %i columns with correlation ids whole and the message wrapped at words',
    (width) => {
      // Act
      const text = recordTable(records, { width });

      // Assess
      const lines = text.trimEnd().split('\n');
      for (const l of lines) expect(l.length).toBeLessThanOrEqual(width);
      expect(lines.some((l) => l.includes(uuid))).toBe(true);
      const flowed = lines.join(' ').replace(/\s+/g, ' ');
      expect(flowed).toContain(longMessage);
      expect(flowed).toContain('order placed [redacted: email×2]');
    },
  );

  it('gives the message a column of its own when the terminal is wide', () => {
    // Act
    const lines = recordTable(records, { width: 200 }).split('\n');

    // Assess
    expect(lines[0]).toMatch(/^TIME\s+LEVEL\s+CATEGORY\s+SERVICE\s+CORRELATION_ID\s+MESSAGE$/);
    expect(lines[1]).toContain(`${uuid}  payment authorization failed`);
  });

  it('puts the fields on one line, with shorter times if need be, and the message below when narrow', () => {
    // Act
    const lines = recordTable(records, { width: 80 }).split('\n');

    // Assess
    expect(lines[0]).toMatch(/^TIME\s+LEVEL\s+CATEGORY\s+SERVICE\s+CORRELATION_ID$/);
    expect(lines[1]).toBe('  MESSAGE');
    expect(lines[2]).toMatch(new RegExp(`^11-22 10:15:00  ERROR\\s+errors\\s+checkout\\s+${uuid}$`));
    expect(lines[3]).toMatch(/^ {2}payment authorization failed/);
  });

  it('gives an id that does not fit beside the other fields a line of its own', () => {
    // Act
    const lines = recordTable(records, { width: 60 }).split('\n');

    // Assess
    expect(lines.slice(0, 3)).toEqual([
      expect.stringMatching(/^TIME\s+LEVEL\s+CATEGORY\s+SERVICE$/),
      '  CORRELATION_ID',
      '  MESSAGE',
    ]);
    expect(lines[3]).toMatch(/^2026-11-22T10:15:00.000Z {2}ERROR\s+errors\s+checkout$/);
    expect(lines[4]).toBe(`  ${uuid}`);
  });

  it('writes one line per record, whole, without a width', () => {
    // Act
    const lines = recordTable(records).trimEnd().split('\n');

    // Assess
    expect(lines).toHaveLength(3);
    expect(lines[1]).toContain(longMessage);
  });
});

describe('aggregateTable', () => {
  const row = (service: string): AggregateRow => ({
    group: { service },
    count: 1200,
    errors: 17,
    errorRate: 17 / 1200,
    firstSeen: '2026-11-22T10:00:00.123Z',
    lastSeen: '2026-11-22T10:59:59.999Z',
    sampleCorrelationIds: [],
    values: {},
  });
  const rows = [row('checkout'), row('payments-gateway-eu')];

  it('shows full times when they fit, and drops milliseconds when that makes the table fit', () => {
    // Act
    const wide = aggregateTable(rows, ['service'], { width: 200 });
    const narrow = aggregateTable(rows, ['service'], { width: 90 });

    // Assess
    expect(wide).toContain('2026-11-22T10:00:00.123Z');
    expect(narrow).toContain('2026-11-22 10:00:00');
    for (const l of narrow.trimEnd().split('\n')) expect(l.length).toBeLessThanOrEqual(90);
    expect(narrow.split('\n')[0]).toMatch(/^SERVICE\s+COUNT\s+ERRORS\s+ERROR_RATE\s+FIRST_SEEN\s+LAST_SEEN$/);
  });

  it('shows one block per row when even that does not fit, every value whole', () => {
    // Act
    const text = aggregateTable(rows, ['service'], { width: 40 });

    // Assess
    for (const l of text.trimEnd().split('\n')) expect(l.length).toBeLessThanOrEqual(40);
    expect(text).toContain('SERVICE     payments-gateway-eu');
    expect(text).toContain('FIRST_SEEN  2026-11-22T10:00:00.123Z');
    expect(text.split('\n\n')).toHaveLength(2);
  });
});

describe('alertsTable', () => {
  const alert: Alert = {
    version: 1,
    id: 'a1',
    source: 'rule',
    status: 'firing',
    rule: 'error-rate',
    description: 'share of ERROR and CRITICAL events per service over the window, above the threshold',
    severity: 'high',
    kind: 'error_rate',
    value: 0.1,
    threshold: 0.05,
    unit: 'ratio',
    window: { start: '2026-11-22T12:00:00.000Z', end: '2026-11-22T12:05:00.000Z', minutes: 5 },
    group: { service: 'checkout' },
    groupKey: 'service=checkout',
    firedAt: '2026-11-22T12:07:00.000Z',
    since: '2026-11-22T12:07:00.000Z',
    repeat: false,
    samples: ['c-2-0', 'c-2-1', uuid],
    details: {},
    search:
      "loglake search 'payment failed' --since 2026-11-22T12:00:00.000Z --until 2026-11-22T12:05:00.000Z --service checkout --data-dir /tmp/lake",
  };

  it('wraps at words within 80 columns, ids whole, the command still one command', () => {
    // Act
    const text = alertsTable([alert], { width: 80 });

    // Assess
    const lines = text.trimEnd().split('\n');
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
    expect(text).toContain(uuid);
    const flowed = lines.join(' ').replace(/\s+/g, ' ');
    expect(flowed).toContain(alert.description);
    const command = lines
      .slice(lines.findIndex((l) => l.trimStart().startsWith('loglake search')))
      .map((l) => l.trim().replace(/ \\$/, ''))
      .join(' ');
    expect(command).toBe(alert.search);
  });

  it('keeps one line per item without a width', () => {
    // Act
    const text = alertsTable([alert]);

    // Assess
    expect(text.trimEnd().split('\n')).toHaveLength(5);
  });
});
