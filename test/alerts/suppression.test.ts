import { describe, expect, it } from 'vitest';
import { activeSuppression, inWindow } from '../../src/alerts/suppression';

describe('inWindow', () => {
  it('contains an instant inside a one-off window and excludes its end', () => {
    const w = { start: '2025-01-06T10:00:00Z', end: '2025-01-06T11:00:00Z' };
    expect(inWindow(w, new Date('2025-01-06T10:30:00Z'))).toBe(true);
    expect(inWindow(w, new Date('2025-01-06T11:00:00Z'))).toBe(false);
    expect(inWindow(w, new Date('2025-01-06T09:59:59Z'))).toBe(false);
  });

  it('matches a recurring window on its day and hours only', () => {
    // 2025-01-05 is a Sunday.
    const w = { days: ['sun' as const], from: '02:00', to: '04:00', timezone: 'UTC' };
    expect(inWindow(w, new Date('2025-01-05T03:00:00Z'))).toBe(true);
    expect(inWindow(w, new Date('2025-01-05T04:00:00Z'))).toBe(false);
    expect(inWindow(w, new Date('2025-01-06T03:00:00Z'))).toBe(false);
  });

  it('carries a window crossing midnight into the next day', () => {
    const w = { days: ['sat' as const], from: '23:00', to: '01:00', timezone: 'UTC' };
    expect(inWindow(w, new Date('2025-01-04T23:30:00Z'))).toBe(true); // Saturday
    expect(inWindow(w, new Date('2025-01-05T00:30:00Z'))).toBe(true); // Sunday, after midnight
    expect(inWindow(w, new Date('2025-01-05T23:30:00Z'))).toBe(false); // Sunday evening
  });

  it('applies the window in its time zone, daylight saving included', () => {
    const w = { days: ['mon' as const], from: '09:00', to: '10:00', timezone: 'Europe/Berlin' };
    expect(inWindow(w, new Date('2025-01-06T08:30:00Z'))).toBe(true); // CET = UTC+1
    expect(inWindow(w, new Date('2025-07-07T07:30:00Z'))).toBe(true); // CEST = UTC+2
    expect(inWindow(w, new Date('2025-07-07T08:30:00Z'))).toBe(false);
  });
});

describe('activeSuppression', () => {
  it('returns the first window containing the instant, or undefined', () => {
    const a = { start: '2025-01-06T10:00:00Z', end: '2025-01-06T11:00:00Z', reason: 'db upgrade' };
    expect(activeSuppression([a], new Date('2025-01-06T10:10:00Z'))).toBe(a);
    expect(activeSuppression([a], new Date('2025-01-06T12:00:00Z'))).toBeUndefined();
  });
});
