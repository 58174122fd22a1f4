import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config';
import { settingsFromConfig, transformRecords } from '../../src/transform';

interface CorpusCase {
  log: unknown;
  secrets: string[];
  keep: string[];
}

/** The shared labeled corpus (DESIGN.md): `../shared/corpus` beside the repository. */
const CORPUS = join(__dirname, '..', '..', '..', 'shared', 'corpus', 'redaction-public.jsonl');

const cases: CorpusCase[] = readFileSync(CORPUS, 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => JSON.parse(line) as CorpusCase);

function arrivalOf(log: unknown): number {
  const ts = typeof log === 'object' && log !== null ? (log as { timestamp?: unknown }).timestamp : undefined;
  const ms = typeof ts === 'string' ? Date.parse(ts) : Number.NaN;
  return Number.isFinite(ms) ? ms + 1000 : Date.UTC(2026, 0, 1);
}

describe('redaction corpus (redaction-public.jsonl) through transformRecords', () => {
  const settings = settingsFromConfig(DEFAULT_CONFIG, 'corpus-key', 'logs');
  const records = cases.map((c, i) => ({
    recordId: String(i),
    data: Buffer.from(typeof c.log === 'string' ? c.log : JSON.stringify(c.log)).toString('base64'),
    approximateArrivalTimestamp: arrivalOf(c.log),
  }));
  const outputs = transformRecords(records, settings).records;
  const delivered = outputs.map((o) => Buffer.from(o.data, 'base64').toString('utf8'));

  it('has cases to check', () => {
    expect(cases.length).toBeGreaterThanOrEqual(600);
    expect(outputs.every((o) => o.result === 'Ok')).toBe(true);
  });

  it('removes 100% of the secrets', () => {
    const leaks = cases.flatMap((c, i) =>
      c.secrets.filter((s) => delivered[i]?.includes(s)).map((s) => `case ${i}: ${s}`),
    );
    expect(leaks).toEqual([]);
  });

  it('keeps 100% of the values that must survive', () => {
    const lost = cases.flatMap((c, i) =>
      c.keep.filter((k) => !delivered[i]?.includes(k)).map((k) => `case ${i}: ${k}`),
    );
    expect(lost).toEqual([]);
  });
});

/**
 * Cases beside the shared corpus, in its shape, for shapes it lacks: dotted-quad versions that are
 * also valid addresses, next to real addresses in the same event.
 */
const projectCases: CorpusCase[] = [
  {
    log: { timestamp: '2026-07-01T10:00:00.000Z', level: 'INFO', message: 'agent upgraded to 1.6.12.2' },
    secrets: [],
    keep: ['upgraded to 1.6.12.2'],
  },
  {
    log: {
      timestamp: '2026-07-01T10:00:01.000Z',
      level: 'INFO',
      message: 'nginx upgraded from 1.6.12.1 to 1.6.12.2 by admin from 203.0.113.77',
    },
    secrets: ['203.0.113.77'],
    keep: ['from 1.6.12.1 to 1.6.12.2', '203.0.113.0'],
  },
  {
    log: {
      timestamp: '2026-07-01T10:00:02.000Z',
      level: 'INFO',
      message: 'GET /api/items',
      context: { user_agent: 'Mozilla/5.0 Firefox/121.0.1.2', client_ip: '198.51.100.23' },
    },
    secrets: ['198.51.100.23'],
    keep: ['Firefox/121.0.1.2'],
  },
  {
    log: 'upgrade request from 192.0.2.44 accepted',
    secrets: ['192.0.2.44'],
    keep: ['upgrade request from'],
  },
  // HTTP Basic credentials shorter than the other tokens, and words after "Basic" that are none.
  {
    log: {
      timestamp: '2026-07-01T10:00:03.000Z',
      level: 'WARN',
      message: 'Authorization header was Basic dXNlcjpw',
    },
    secrets: ['dXNlcjpw'],
    keep: ['Authorization header was Basic'],
  },
  {
    log: {
      timestamp: '2026-07-01T10:00:04.000Z',
      level: 'INFO',
      message: 'retry',
      context: { note: 'Basic YTpi' },
    },
    secrets: ['YTpi'],
    keep: ['retry'],
  },
  {
    log: 'Basic auth failed for admin: the basic plan has no SSO, BASIC mode only, Basic Ym9i rejected',
    secrets: [],
    keep: ['Basic auth failed', 'the basic plan', 'BASIC mode', 'Basic Ym9i rejected'],
  },
];

describe('project redaction cases through transformRecords', () => {
  const settings = settingsFromConfig(DEFAULT_CONFIG, 'corpus-key', 'logs');
  const delivered = transformRecords(
    projectCases.map((c, i) => ({
      recordId: String(i),
      data: Buffer.from(typeof c.log === 'string' ? c.log : JSON.stringify(c.log)).toString('base64'),
      approximateArrivalTimestamp: Date.parse('2026-07-01T10:00:05Z'),
    })),
    settings,
  ).records.map((o) => Buffer.from(o.data, 'base64').toString('utf8'));

  it.each(projectCases.map((c, i) => [i, c] as const))(
    'case %i removes its secrets and keeps its values',
    (i, c) => {
      for (const s of c.secrets) expect(delivered[i]).not.toContain(s);
      for (const k of c.keep) expect(delivered[i]).toContain(k);
    },
  );
});
