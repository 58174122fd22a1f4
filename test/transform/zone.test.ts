import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config';
import { ConfigError } from '../../src/errors';
import { ZONELESS_ERROR } from '../../src/transform/normalize';
import { isTimeZoneName, TimeZone, TimeZones } from '../../src/transform/zone';
import { ARRIVAL, cwl, json, normalizeOne, settings, transformOne } from './helpers';

const wall = (text: string) => Date.parse(`${text}Z`);
const iso = (ms: number) => new Date(ms).toISOString();

describe('TimeZone', () => {
  it.each([
    ['America/New_York', '2026-01-02T03:04:05', '2026-01-02T08:04:05.000Z'],
    ['America/New_York', '2026-07-02T03:04:05', '2026-07-02T07:04:05.000Z'],
    ['Europe/Berlin', '2026-01-02T03:04:05', '2026-01-02T02:04:05.000Z'],
    ['Asia/Kathmandu', '2026-01-02T03:04:05', '2026-01-01T21:19:05.000Z'],
    ['UTC', '2026-01-02T03:04:05', '2026-01-02T03:04:05.000Z'],
  ])('reads a wall time in %s', (name, text, expected) => {
    expect(iso(new TimeZone(name).toUtc(wall(text)))).toBe(expected);
  });

  it('reads a wall time on either side of a daylight-saving change with the offset in force', () => {
    const ny = new TimeZone('America/New_York');
    expect(iso(ny.toUtc(wall('2026-03-08T01:59:00')))).toBe('2026-03-08T06:59:00.000Z');
    expect(iso(ny.toUtc(wall('2026-03-08T03:00:00')))).toBe('2026-03-08T07:00:00.000Z');
  });

  it('canonicalizes the name', () => {
    expect(new TimeZone('america/new_york').name).toBe('America/New_York');
  });
});

describe('isTimeZoneName', () => {
  it.each(['Europe/Berlin', 'America/Argentina/Buenos_Aires', 'UTC', 'Etc/GMT+5'])('accepts %s', (name) => {
    expect(isTimeZoneName(name)).toBe(true);
  });

  it.each(['+05:00', 'Mars/Olympus_Mons', '', 'Europe/Berlin; DROP', 'Z'])('refuses %j', (name) => {
    expect(isTimeZoneName(name)).toBe(false);
  });
});

describe('transform.timeZones (config)', () => {
  it('refuses a name that is not an IANA zone, naming the field and the value', () => {
    const attempt = () => resolveConfig({ transform: { timeZones: { services: { billing: 'EST5EDT+1' } } } });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/loglake\.transform\.timeZones\.services\.billing: must be an IANA time zone/);
    expect(attempt).toThrow(/EST5EDT\+1/);
  });

  it('accepts services, sources and a default', () => {
    const config = resolveConfig({
      transform: {
        timeZones: {
          services: { billing: 'America/New_York' },
          sources: { '/ecs/x': 'UTC' },
          default: 'UTC',
        },
      },
    });
    expect(config.transform.timeZones.services.billing).toBe('America/New_York');
  });

  it('looks up the service first, then the source, then the default', () => {
    const zones = new TimeZones({
      services: { billing: 'America/New_York' },
      sources: { '/ecs/legacy': 'Europe/Berlin' },
      default: 'Asia/Tokyo',
    });
    expect(zones.zoneFor('billing', '/ecs/legacy')?.name).toBe('America/New_York');
    expect(zones.zoneFor('other', '/ecs/legacy')?.name).toBe('Europe/Berlin');
    expect(zones.zoneFor('other', undefined)?.name).toBe('Asia/Tokyo');
    expect(new TimeZones({ services: {}, sources: {} }).zoneFor('billing', undefined)).toBeUndefined();
  });
});

describe('zone-less timestamps', () => {
  const ny = () =>
    settings('logs', { transform: { timeZones: { services: { billing: 'America/New_York' } } } });

  it('flags a text timestamp without a zone that no configured zone covers (read as UTC)', () => {
    const record = normalizeOne('2026-01-02 03:04:05,000 - billing.jobs - INFO - invoice run');
    expect(record.timestamp).toBe('2026-01-02T03:04:05.000Z');
    expect(record.schema_errors).toContain(ZONELESS_ERROR);
  });

  it('flags a JSON timestamp without a zone, but not one with a zone or an epoch', () => {
    const zoneless = normalizeOne(
      json({ asctime: '2026-01-02 03:04:05,000', levelname: 'INFO', message: 'x', service: 's' }),
    );
    const zoned = normalizeOne(
      json({ time: '2026-01-02T03:04:05+01:00', level: 'info', msg: 'x', service: 's' }),
    );
    const epoch = normalizeOne(json({ time: ARRIVAL, level: 'info', msg: 'x', service: 's' }));
    expect(zoneless.schema_errors).toEqual([ZONELESS_ERROR]);
    expect(zoned.schema_errors).toEqual([]);
    expect(epoch.schema_errors).toEqual([]);
  });

  it("reads a zone-less JSON time in its service's zone, and partitions by the result", () => {
    const { output, records } = transformOne(
      json({ time: '2026-01-01 21:30:00', level: 'info', msg: 'nightly', service: 'billing' }),
      ny(),
    );
    expect(records[0]?.timestamp).toBe('2026-01-02T02:30:00.000Z');
    expect(records[0]?.schema_errors).toEqual([]);
    expect(output.metadata?.partitionKeys).toMatchObject({ dt: '2026-01-02', hour: '02' });
  });

  it("reads a zone-less logfmt time in its service's zone", () => {
    const record = normalizeOne('time="2026-01-01 21:04:05" level=info service=billing msg=ok', ny());
    expect(record.timestamp).toBe('2026-01-02T02:04:05.000Z');
  });

  it('leaves a timestamp with an explicit offset alone, whatever zone is configured', () => {
    const record = normalizeOne(
      json({ time: '2026-01-02T03:04:05.000Z', level: 'info', msg: 'x', service: 'billing' }),
      ny(),
    );
    expect(record.timestamp).toBe('2026-01-02T03:04:05.000Z');
  });

  it('reads zone-less text lines from a CloudWatch log group in the zone of that source', () => {
    const s = settings('logs', { transform: { timeZones: { sources: { '/ecs/legacy': 'Europe/Berlin' } } } });
    const { records } = transformOne(
      cwl({
        messageType: 'DATA_MESSAGE',
        owner: '123456789012',
        logGroup: '/ecs/legacy',
        logStream: 'web/1',
        subscriptionFilters: ['all'],
        logEvents: [{ id: '1', timestamp: ARRIVAL, message: '2026-01-02 04:04:05 ERROR disk full' }],
      }),
      s,
    );
    expect(records[0]?.timestamp).toBe('2026-01-02T03:04:05.000Z');
    expect(records[0]?.schema_errors).toEqual([]);
  });

  it('uses the default zone for everything else', () => {
    const s = settings('logs', { transform: { timeZones: { default: 'Asia/Tokyo' } } });
    const record = normalizeOne('2026-01-02 12:04:05 INFO ready', s);
    expect(record.timestamp).toBe('2026-01-02T03:04:05.000Z');
    expect(record.schema_errors).not.toContain(ZONELESS_ERROR);
  });
});
