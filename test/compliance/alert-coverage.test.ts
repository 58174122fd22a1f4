/**
 * The "Alert coverage" item's one builder (src/compliance/alert-coverage.ts), shared by the local report
 * and `--stack`: the rows of the rules with their stored state, and the notices that set its status.
 */
import { describe, expect, it } from 'vitest';
import {
  ALERT_COVERAGE_COLUMNS,
  alertCoverageItem,
  ruleCoverageRows,
} from '../../src/compliance/alert-coverage';
import { DEFAULT_CONFIG } from '../../src/config';

const rules = DEFAULT_CONFIG.alerts.rules;

describe('ruleCoverageRows', () => {
  it('gives every rule a row by name, with its firing groups and transitions where state was stored', () => {
    // Prepare
    const name = Object.keys(rules).sort((a, b) => a.localeCompare(b))[1] as string;

    // Act
    const rows = ruleCoverageRows(rules, {
      [name]: {
        lastSlot: '2026-11-30T11:55:00.000Z',
        state: {
          groups: {
            '': { status: 'firing', since: '2026-11-30T11:00:00.000Z' },
            'service=shop': { status: 'pending', since: '2026-11-30T11:50:00.000Z' },
          },
          lastResolved: { at: '2026-11-30T10:00:00.000Z', groupKey: 'service=shop' },
        },
      },
    });

    // Assess
    expect(rows.map((r) => r[0])).toEqual(Object.keys(rules).sort((a, b) => a.localeCompare(b)));
    expect(rows[1]?.slice(5)).toEqual([
      '2026-11-30T11:55:00.000Z',
      'all since 2026-11-30T11:00:00.000Z',
      null,
      '2026-11-30T10:00:00.000Z (service=shop)',
    ]);
    expect(rows[0]?.slice(5)).toEqual([null, null, null, null]);
    expect(rows[0]).toHaveLength(ALERT_COVERAGE_COLUMNS.length);
  });
});

describe('alertCoverageItem', () => {
  it('is ok when every row is enabled and the caller has no notice', () => {
    // Act
    const item = alertCoverageItem({ source: 's', rows: ruleCoverageRows(rules, {}), headline: 'h' });

    // Assess
    expect(item).toMatchObject({ title: 'Alert coverage', status: 'ok', summary: ['h'] });
    expect(item.columns).toEqual(ALERT_COVERAGE_COLUMNS);
  });

  it("names the disabled rows in a notice before the caller's own notices", () => {
    // Prepare
    const rows = [
      ['a', false, 'threshold', 'high', 'x', null, null, null, null],
      ['b', true, 'threshold', 'high', 'y', null, null, null, null],
      ['c', false, 'cloudwatch alarm', null, 'z', null, null, null, null],
    ];

    // Act
    const item = alertCoverageItem({ source: 's', rows, headline: 'h', notices: ['notice: more'] });

    // Assess
    expect(item.status).toBe('notice');
    expect(item.summary).toEqual(['h', 'notice: disabled: a, c', 'notice: more']);
  });

  it("is a notice on the caller's notice alone", () => {
    const item = alertCoverageItem({ source: 's', rows: [], headline: 'h', notices: ['notice: off'] });

    expect(item.status).toBe('notice');
  });
});
