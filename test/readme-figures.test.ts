/**
 * The README states each benchmark figure once, in its Benchmarks section; other sections may quote a
 * figure only as that section states it (they used to disagree: 55 ms against 41 ms, 21-26k against
 * 24.5k events/s, 3.4-4.2x against 3.3-3.8x the floor).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
const benchmarks = readme.slice(readme.indexOf('<!-- section: benchmarks -->'));
const rest = readme.slice(0, readme.indexOf('<!-- section: benchmarks -->'));

/** Measured figures as prose writes them: throughputs, speeds, ratios to a floor, latencies. */
const FIGURES = [
  /\d[\d.,]*k?(?:[–-]\d[\d.,]*k?)? events\/s/g,
  /\d[\d.]*(?:[–-]\d[\d.]*)? MiB\/s/g,
  /\d[\d.]*(?:[–-]\d[\d.]*)?× the floor/g,
  /(?:p50 |takes ~?|in ≤ )\d+ ms/g,
  /\d[\d.]*[×x] faster/g,
];

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
});
