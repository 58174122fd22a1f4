/**
 * The design contracts and the architecture map stay true to the code: the record table of
 * docs/design.md lists exactly the columns of src/schema.ts, its category table the default policy, and
 * every file ARCHITECTURE.md names exists.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../src/config';
import { CATEGORIES, PARTITION_COLUMNS, RECORD_COLUMNS } from '../src/schema';
import { ROOT } from './infra/helpers';

const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

/** Rows (cells trimmed) of the markdown table that follows `heading`. */
function tableAfter(markdown: string, heading: string): string[][] {
  const start = markdown.indexOf(heading);
  if (start < 0) throw new Error(`no section ${heading}`);
  const lines = markdown.slice(start).split('\n');
  const first = lines.findIndex((l) => l.startsWith('|'));
  const rows: string[][] = [];
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(
      line
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim()),
    );
  }
  return rows;
}

describe('docs/design.md', () => {
  const design = read('docs/design.md');

  it('lists exactly the record columns of src/schema.ts', () => {
    const documented = tableAfter(design, '## The normalized record').flatMap((row) =>
      (row[0] ?? '').split(',').map((c) => c.trim()),
    );

    expect(documented).toEqual(RECORD_COLUMNS.map((c) => c.name));
    const partitions = design.split('\n').find((l) => l.startsWith('Partitions:')) ?? '';
    expect([...partitions.matchAll(/`(\w+)`/g)].map((m) => m[1])).toEqual(
      PARTITION_COLUMNS.map((c) => c.name),
    );
  });

  it('gives each category the default expiry and lock of src/config.ts', () => {
    const rows = tableAfter(design, '## Categories');
    const days = (text: string) => {
      const [n, unit] = text.split(' ');
      return Number(n) * (unit?.startsWith('year') ? 365 : 1);
    };

    expect(rows.map((r) => r[0])).toEqual([...CATEGORIES]);
    for (const [category, expiry, , stream] of rows) {
      const policy = DEFAULT_CONFIG.categories[category as (typeof CATEGORIES)[number]];
      expect([category, days(expiry ?? '')]).toEqual([category, policy.expiryDays]);
      expect([category, stream?.includes('locked')]).toEqual([category, policy.locked]);
    }
  });
});

describe('ARCHITECTURE.md', () => {
  it('names only files and folders that exist', () => {
    const text = read('ARCHITECTURE.md');
    const named = new Set(
      [...text.matchAll(/\b((?:src|lib|lambdas|bin|test|scripts|docs)\/[\w./<>*-]*[\w/])/g)]
        .map((m) => m[1] ?? '')
        .filter((p) => !/[<>*]/.test(p)),
    );

    const missing = [...named].filter((p) => !existsSync(path.join(ROOT, p)));

    expect(named.size).toBeGreaterThan(40);
    expect(missing).toEqual([]);
  });
});
