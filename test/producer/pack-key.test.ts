import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config';
import { categoryHourKey } from '../../src/producer/pack-key';
import { settingsFromConfig, transformRecords } from '../../src/transform';

const now = Date.parse('2026-11-22T10:30:00.000Z');
const settings = settingsFromConfig(DEFAULT_CONFIG, 'k', 'logs');

/** The partition the transform gives a record holding just this line. */
function transformKey(line: string): string {
  const { records } = transformRecords(
    [{ recordId: '1', data: Buffer.from(line).toString('base64'), approximateArrivalTimestamp: now }],
    settings,
    { random: () => 0 },
  );
  const keys = records[0]?.metadata?.partitionKeys;
  return keys ? `${keys.category}|${keys.dt}T${keys.hour}` : `none:${records[0]?.result}`;
}

const levelValue = fc.oneof(
  fc.constantFrom('debug', 'INFO', 'warning', 'Error', 'FATAL', 'critical', 'notice', 'trace'),
  fc.constantFrom(10, 20, 30, 40, 50, 60),
);
const timeValue = fc.oneof(
  fc.integer({ min: -30 * 3_600_000, max: 30 * 60_000 }).map((d) => new Date(now + d).toISOString()),
  fc.integer({ min: -3 * 3_600_000, max: 60_000 }).map((d) => Math.floor((now + d) / 1000)),
  fc.integer({ min: -3 * 3_600_000, max: 60_000 }).map((d) => now + d),
  fc.constant(new Date(now - 30 * 86_400_000).toISOString()),
);
const event = fc.record(
  {
    timestamp: timeValue,
    level: levelValue,
    service: fc.constantFrom('checkout', 'auth-service', 'billing', 'worker'),
    logger: fc.constantFrom(
      'auth.login',
      'audit.trail',
      'express.access',
      'app.main',
      'admin.users',
      'django.request',
      'breakglass',
    ),
    message: fc.constantFrom('hello', 'GET /x 200', 'user bob@example.com logged in'),
    category: fc.constantFrom('security', 'audit', 'runtime', 'not-a-category', 'Errors'),
    http: fc.record(
      {
        method: fc.constantFrom('GET', 'POST'),
        path: fc.constant('/api'),
        status_code: fc.constantFrom(200, 500),
      },
      { requiredKeys: [] },
    ),
    http_method: fc.constantFrom('GET', 'DELETE'),
    status: fc.constantFrom(200, 404),
    audit: fc.constantFrom(true, false, 'yes', 0),
    context: fc.record({ logger: fc.constantFrom('security.x', 'app') }, { requiredKeys: [] }),
  },
  { requiredKeys: [] },
);

describe('categoryHourKey', () => {
  it('gives a JSON line the category and hour the transform gives it', () => {
    const key = categoryHourKey(DEFAULT_CONFIG, () => now);
    fc.assert(
      fc.property(event, (e) => {
        // Prepare
        const line = JSON.stringify(e);

        // Act
        const got = key(line);

        // Assess
        expect(got).toBe(transformKey(line));
      }),
      { numRuns: 300 },
    );
  });

  it.each([
    '2026-11-22T10:05:00Z ERROR payments charge failed',
    '127.0.0.1 - - [22/Nov/2026:09:59:58 +0000] "GET /index.html HTTP/1.1" 200 512',
    'level=warn logger=auth.login msg="bad password"',
    'no structure at all',
    // Inside maxPastHours but older than debug's 14-day retention: the transform uses arrival time.
    JSON.stringify({ timestamp: new Date(now - 30 * 86_400_000).toISOString(), level: 10 }),
    JSON.stringify({ timestamp: new Date(now - 30 * 86_400_000).toISOString(), level: 'error' }),
  ])('gives the line %j the transform’s category and hour', (line) => {
    // Act
    const got = categoryHourKey(DEFAULT_CONFIG, () => now)(line);

    // Assess
    expect(got).toBe(transformKey(line));
  });
});
