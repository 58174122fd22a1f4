/**
 * The README states each benchmark figure once, in its Benchmarks section's table; other sections may
 * quote a figure only as that table states it (they used to disagree: 55 ms against 41 ms, 21-26k against
 * 24.5k events/s, 3.4-4.2x against 3.3-3.8x the floor, 2.5–3% against 2.5–3.2% reset, a compacted lookup
 * of 2.7 s against 0.72–0.83 s).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
const SECTION = '<!-- section: benchmarks -->';
const benchmarks = readme.slice(readme.indexOf(SECTION));
const rest = readme.slice(0, readme.indexOf(SECTION));
/** The benchmark table: its rows, each benchmark's figure and baseline. */
const table = benchmarks
  .split('\n')
  .filter((l) => /^\| `[a-z]+`/.test(l))
  .join('\n');

/** Measured figures as prose writes them: throughputs, speeds, ratios to a floor, latencies. */
const FIGURES = [
  /\d[\d.,]*k?(?:[–-]\d[\d.,]*k?)? events\/s/g,
  /\d[\d.]*(?:[–-]\d[\d.]*)? MiB\/s/g,
  /\d[\d.]*(?:[–-]\d[\d.]*)?× the floor/g,
  /(?:p50 |takes ~?|in ≤ )\d+ ms/g,
  /\d[\d.]*[×x] faster/g,
];

/** A number or range with a measured unit (`0.72–0.83 s`, `24.5k events/s`, `2.5–3.2%`, `1.001x`). */
const MEASURED =
  /(?<![\w.,–-])(\d[\d.,]*k?(?:[–-]\d[\d.,]*k?)?)\s?(?:ms|s|MiB\/s|MiB|events\/s|×|x|%)(?![\w/])/g;

/** Passages citing the benchmarks: paragraphs and list items naming `npm run bench`, bench/ or the section. */
function citingPassages(text: string): string[] {
  return text
    .split(/\n\s*\n|\n(?=[-*] )/)
    .filter((p) => /npm run bench|\(#benchmarks\)|`bench\//.test(p) && !/^\|/.test(p.trim()));
}

/** The measured figures of `passage` the table does not state as written (a range only as that range). */
function unstated(passage: string, inTable: string): string[] {
  return [...passage.matchAll(MEASURED)]
    .map((m) => m[1] as string)
    .filter((n) => {
      const escaped = n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      return !new RegExp(`(?<![\\d.,–-])${escaped}(?![\\d,]|\\.\\d|[–-]\\d)`).test(inTable);
    });
}

describe('README benchmark figures', () => {
  it('quotes outside the Benchmarks section only figures that section states', () => {
    // Prepare
    const quoted = FIGURES.flatMap((re) => [...rest.matchAll(re)].map((m) => m[0]));
    const numbers = (s: string) => s.match(/\d[\d.,]*/g) ?? [];

    // Act
    const unbacked = quoted.filter((q) => !numbers(q).every((n) => benchmarks.includes(n)));

    // Assess
    expect(quoted.length).toBeGreaterThan(4);
    expect(unbacked).toEqual([]);
  });

  it('quotes, in every passage citing the benchmarks, each measured figure as the table states it', () => {
    // Prepare
    const passages = citingPassages(rest);

    // Act
    const disagreeing = passages
      .map((p) => ({ passage: p.slice(0, 80), figures: unstated(p, table) }))
      .filter((p) => p.figures.length > 0);

    // Assess: the passages of the local endpoint's load, compaction, search, the CLI, the shipper, the
    // transform's speed.
    expect(passages.length).toBeGreaterThanOrEqual(6);
    expect(disagreeing).toEqual([]);
  });

  it('tells a figure quoted differently from the table, a range cut short included', () => {
    // Prepare
    const row = '| `connections` | all acknowledged, 26 s | default backlog: 2.5–3.2% reset; p50 41 ms |';

    // Act
    const found = unstated(
      'reset 2.5–3% (`npm run bench`), answered in 26 s, 2.5–3.2% reset, in 41 ms, 1 ms, 0.41 s',
      row,
    );

    // Assess
    expect(found).toEqual(['2.5–3', '1', '0.41']);
  });
});
