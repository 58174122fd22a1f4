import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffCeiling, backoffDelay } from '../src/backoff';

describe('backoffDelay', () => {
  it('waits a uniformly jittered time below a ceiling that doubles per retry up to the cap', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2_000 }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (retry, baseMs, extra, r) => {
          // Prepare
          const policy = { baseMs, capMs: baseMs + extra, random: () => r };

          // Act
          const ceiling = backoffCeiling(retry, policy);
          const delay = backoffDelay(retry, policy);

          // Assess
          expect(ceiling).toBe(Math.min(policy.capMs, baseMs * 2 ** (retry - 1)));
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThan(Math.max(1, ceiling));
          expect(Number.isFinite(delay)).toBe(true);
        },
      ),
    );
  });

  it('spreads retries out between zero and the ceiling (full jitter, not equal jitter)', () => {
    // Prepare
    const policy = { baseMs: 100, capMs: 10_000 };

    // Act
    const delays = Array.from({ length: 2_000 }, () => backoffDelay(4, policy));

    // Assess
    expect(Math.min(...delays)).toBeLessThan(80);
    expect(Math.max(...delays)).toBeGreaterThan(720);
    expect(Math.max(...delays)).toBeLessThan(800);
  });
});
