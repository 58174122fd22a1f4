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
