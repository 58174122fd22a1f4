import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type BucketRow,
  groupKey,
  observeAggregates,
  observeAnomaly,
  parseGroupKey,
} from '../../src/alerts/observe';

const errorRate = { kind: 'error_rate' as const, threshold: 0.05, minEvents: 20 };
const anomaly = (
  over: Partial<{
    direction: 'up' | 'down' | 'both';
    minBaseline: number;
    metric: 'volume' | 'error_rate';
  }> = {},
) => ({
  threshold: 2,
  anomaly: {
    metric: 'volume' as const,
    trailingWindows: 12,
    direction: 'both' as const,
    minBaseline: 10,
    ...over,
  },
});

/** A steady baseline of `base` events per window (with a little noise) and `current` in the evaluated window. */
function buckets(
  current: number,
  base: number[],
  group: Record<string, string> = { category: 'runtime' },
  errors: number[] = [],
): BucketRow[] {
  return [current, ...base].map((total, bucket) => ({ group, bucket, total, errors: errors[bucket] ?? 0 }));
}

describe('groupKey', () => {
  it('round-trips any group through parseGroupKey', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.constantFrom('service', 'category', 'level'),
          fc.string({ minLength: 1 }).filter((s) => !s.includes(',')),
        ),
        (group) => {
          expect(parseGroupKey(groupKey(group))).toEqual(group);
        },
      ),
    );
  });

  it('is * for an ungrouped rule and sorted by column otherwise', () => {
    expect(groupKey({})).toBe('*');
    expect(groupKey({ service: 'a', category: 'errors' })).toBe('category=errors,service=a');
  });
});

describe('observeAggregates', () => {
  it('breaches an error rate above the threshold', () => {
    const [o] = observeAggregates(errorRate, [
      { group: { service: 'api' }, total: 100, errors: 6, samples: ['c1'] },
    ]);
    expect(o).toMatchObject({
      value: 0.06,
      breaching: true,
      judged: true,
      groupKey: 'service=api',
      samples: ['c1'],
    });
  });

  it('does not breach an error rate exactly at the threshold', () => {
    const [o] = observeAggregates(errorRate, [{ group: {}, total: 100, errors: 5, samples: [] }]);
    expect(o?.breaching).toBe(false);
  });

  it('does not judge an error rate over fewer events than minEvents', () => {
    const [o] = observeAggregates(errorRate, [{ group: {}, total: 3, errors: 3, samples: [] }]);
    expect(o).toMatchObject({ value: 1, judged: false, breaching: false });
  });

  it('breaches a count rule with threshold 0 on a single event', () => {
    const [o] = observeAggregates({ kind: 'count', threshold: 0, minEvents: 1 }, [
      { group: {}, total: 1, errors: 1, samples: [] },
    ]);
    expect(o).toMatchObject({ value: 1, breaching: true });
  });
});

describe('observeAnomaly', () => {
  const steady = [100, 104, 97, 101, 99, 103, 98, 100, 102, 96, 101, 99];

  it('breaches on a spike far above a steady baseline', () => {
    const [o] = observeAnomaly(anomaly(), buckets(400, steady));
    expect(o?.breaching).toBe(true);
    expect(o?.value).toBeGreaterThan(2);
  });

  it('stays quiet on a value inside the baseline noise', () => {
    const [o] = observeAnomaly(anomaly(), buckets(103, steady));
    expect(o?.breaching).toBe(false);
  });

  it('breaches on a drop to zero (missing current bucket) when direction is both', () => {
    const rows = buckets(0, steady).filter((r) => r.bucket !== 0);
    const [o] = observeAnomaly(anomaly(), rows);
    expect(o).toMatchObject({ breaching: true });
    expect(o?.value).toBeLessThan(-2);
  });

  it('ignores a drop when direction is up', () => {
    const [o] = observeAnomaly(anomaly({ direction: 'up' }), buckets(0, steady));
    expect(o?.breaching).toBe(false);
  });

  it('does not judge a group whose baseline is below minBaseline', () => {
    const [o] = observeAnomaly(anomaly({ minBaseline: 10 }), buckets(50, Array(12).fill(1)));
    expect(o).toMatchObject({ judged: false, breaching: false });
  });

  it('floors the deviation of a perfectly flat baseline at counting noise', () => {
    // 100 every window: a change to 110 is one σ of Poisson noise (√100), not infinity.
    const [o] = observeAnomaly(anomaly(), buckets(110, Array(12).fill(100)));
    expect(o?.value).toBeCloseTo(1, 5);
    expect(o?.breaching).toBe(false);
  });

  it('computes the error-rate metric from errors over totals per window', () => {
    const totals = Array(12).fill(200);
    const errors = [80, ...Array(12).fill(2)];
    const [o] = observeAnomaly(
      anomaly({ metric: 'error_rate' }),
      buckets(200, totals, { service: 'api' }, errors),
    );
    expect(o?.details.current).toBeCloseTo(0.4, 6);
    expect(o?.details.mean).toBeCloseTo(0.01, 6);
    expect(o?.breaching).toBe(true);
  });

  it('reports one observation per group and a finite z-score for any counts', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            g: fc.constantFrom('a', 'b', 'c'),
            bucket: fc.integer({ min: 0, max: 12 }),
            total: fc.nat(10_000),
          }),
        ),
        (rows) => {
          const obs = observeAnomaly(
            anomaly(),
            rows.map((r) => ({ group: { service: r.g }, bucket: r.bucket, total: r.total, errors: 0 })),
          );
          expect(new Set(obs.map((o) => o.groupKey)).size).toBe(new Set(rows.map((r) => r.g)).size);
          for (const o of obs) expect(Number.isFinite(o.value)).toBe(true);
        },
      ),
    );
  });
});
