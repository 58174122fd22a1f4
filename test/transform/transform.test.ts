import { afterEach, describe, expect, it, vi } from 'vitest';
import { Redactor } from '../../src/redact';
import { decodeRecords, type TransformInputRecord, transformRecords } from '../../src/transform';
import { ARRIVAL, input, json, settings, transformOne } from './helpers';

const event = (fields: Record<string, unknown>) =>
  json({ time: ARRIVAL, service: 's', msg: 'm', level: 'info', ...fields });

describe('transformRecords', () => {
  it('returns every recordId exactly once, in input order', () => {
    const records = ['a', 'b', 'c'].map((id) => input(event({}), id));
    expect(transformRecords(records, settings()).records.map((r) => r.recordId)).toEqual(['a', 'b', 'c']);
  });

  it('returns partition keys from the event time, UTC', () => {
    const time = Date.UTC(2026, 0, 1, 23, 30);
    const { output } = transformOne(event({ time: '2026-01-02T00:30:00+01:00' }), settings(), {});
    expect(output.metadata?.partitionKeys).toEqual({ category: 'runtime', dt: '2026-01-01', hour: '23' });
    expect(decodeRecords(output.data)[0]?.timestamp).toBe(new Date(time).toISOString());
  });

  it('ends every line of Ok data with a newline', () => {
    const { output } = transformOne(`${event({ msg: 'a' })}\n${event({ msg: 'b' })}`);
    const text = Buffer.from(output.data, 'base64').toString('utf8');
    expect(text.split('\n')).toHaveLength(3);
    expect(text.endsWith('}\n')).toBe(true);
  });

  describe('categorization', () => {
    it.each([
      [{ category: 'security' }, 'security'],
      [{ category: 'API_ACCESS' }, 'api_access'],
      [{ audit: true }, 'audit'],
      [{ logger: 'billing.audit.charges' }, 'audit'],
      [{ logger: 'auth.worker' }, 'security'],
      [{ http_method: 'GET', http_path: '/x', http_status: 200 }, 'api_access'],
      [{ level: 'debug' }, 'debug'],
      [{ level: 'error' }, 'errors'],
      [{ level: 'fatal' }, 'errors'],
      [{ logger: 'django.request' }, 'framework'],
      [{}, 'runtime'],
    ])('categorizes %j as %s', (fields, category) => {
      expect(transformOne(event(fields)).output.metadata?.partitionKeys.category).toBe(category);
    });

    it('lets an explicit valid category win over the rules', () => {
      expect(
        transformOne(event({ category: 'runtime', level: 'error' })).output.metadata?.partitionKeys.category,
      ).toBe('runtime');
    });

    it('keeps an invalid explicit category in attributes with a schema error and uses the rules', () => {
      const { output, records } = transformOne(event({ category: 'gossip', level: 'error' }));
      expect(output.metadata?.partitionKeys.category).toBe('errors');
      expect(records[0]?.attributes.category).toBe('gossip');
      expect(records[0]?.schema_errors).toEqual(['invalid category "gossip": categorized by rules']);
    });

    it('applies configured rules (service prefix), falling back to the configured default', () => {
      const s = settings('logs', {
        transform: {
          rules: [{ category: 'framework', servicePrefixes: ['edge-'] }],
          defaultCategory: 'debug',
        },
      });
      expect(transformOne(event({ service: 'edge-proxy' }), s).output.metadata?.partitionKeys.category).toBe(
        'framework',
      );
      expect(transformOne(event({ service: 'core' }), s).output.metadata?.partitionKeys.category).toBe(
        'debug',
      );
    });

    it('gives packed events the first event category; a disagreeing one keeps its own in attributes', () => {
      const { output, records } = transformOne(`${event({ level: 'error' })}\n${event({ level: 'info' })}`);
      expect(output.metadata?.partitionKeys.category).toBe('errors');
      expect(records[0]?.schema_errors).toEqual([]);
      expect(records[1]?.attributes.original_category).toBe('runtime');
      expect(records[1]?.schema_errors[0]).toMatch(/differs from the record's category "errors"/);
    });
  });

  describe('on the audit stream', () => {
    it('keeps locked categories', () => {
      const { output, records } = transformOne(event({ logger: 'breakglass' }), settings('audit'));
      expect(output.metadata?.partitionKeys.category).toBe('audit');
      expect(records[0]?.schema_errors).toEqual([]);
    });

    it('turns other categories into audit, keeping the original category', () => {
      const { output, records } = transformOne(event({}), settings('audit'));
      expect(output.metadata?.partitionKeys.category).toBe('audit');
      expect(records[0]?.attributes.original_category).toBe('runtime');
      expect(records[0]?.schema_errors).toEqual([
        'category "runtime" is not locked: delivered as "audit" on the audit stream',
      ]);
    });
  });

  describe('forwardLocked', () => {
    it('sets locked-category records aside for the audit stream and returns them Dropped', () => {
      const records: TransformInputRecord[] = [
        input(event({ logger: 'auth.login' }), 'sec'),
        input(event({}), 'run'),
      ];
      const result = transformRecords(records, settings(), { forwardLocked: true });
      expect(result.records.map((r) => [r.recordId, r.result])).toEqual([
        ['sec', 'Dropped'],
        ['run', 'Ok'],
      ]);
      expect(result.forward).toEqual([records[0]]);
      expect(result.metrics.forwardedRecords).toBe(1);
      expect(result.metrics.eventsByCategory).toEqual({ runtime: 1 });
    });

    it('forwards nothing from the audit stream itself', () => {
      const result = transformRecords([input(event({ logger: 'auth.login' }))], settings('audit'), {
        forwardLocked: true,
      });
      expect(result.forward).toEqual([]);
      expect(result.records[0]?.result).toBe('Ok');
    });

    it('adds a schema error to every event of the records named in recordErrors', () => {
      const data = `${event({})}\n${event({})}`;
      const result = transformRecords([input(data, 'a'), input(data, 'b')], settings(), {
        recordErrors: new Map([['a', 'why']]),
      });
      const [a, b] = result.records.map((r) => decodeRecords(r.data).map((x) => x.schema_errors));
      expect(a).toEqual([['why'], ['why']]);
      expect(b).toEqual([[], []]);
    });
  });

  describe('DEBUG sampling', () => {
    const sampled = settings('logs', { categories: { debug: { sampleRate: 0.5 } } });

    it('keeps everything by default', () => {
      const result = transformRecords([input(event({ level: 'debug' }))], settings(), { random: () => 0.99 });
      expect(result.records[0]?.result).toBe('Ok');
    });

    it('drops a sampled-out DEBUG record', () => {
      const result = transformRecords([input(event({ level: 'debug' }))], sampled, { random: () => 0.7 });
      expect(result.records[0]).toEqual({ recordId: 'r0', result: 'Dropped', data: '' });
      expect(result.metrics.sampledOutEvents).toBe(1);
    });

    it('keeps a sampled-in DEBUG record', () => {
      expect(
        transformRecords([input(event({ level: 'debug' }))], sampled, { random: () => 0.3 }).records[0]
          ?.result,
      ).toBe('Ok');
    });

    it('never samples locked categories', () => {
      const locked = settings('logs', { categories: { security: { sampleRate: 0 } } });
      const result = transformRecords([input(event({ level: 'debug', category: 'security' }))], locked, {
        random: () => 0.99,
      });
      expect(result.records[0]?.result).toBe('Ok');
    });
  });

  it('turns an invalid arrival timestamp into the current time', () => {
    const record = { ...input(json({ msg: 'x' })), approximateArrivalTimestamp: Number.NaN };
    const output = transformRecords([record], settings(), { now: () => ARRIVAL }).records[0];
    expect(output && decodeRecords(output.data)[0]?.ingest_time).toBe(new Date(ARRIVAL).toISOString());
  });

  it('counts results, categories, events, redactions and schema errors in the metrics', () => {
    const records = [
      input(`${event({ msg: 'a@b.co' })}\n${event({ level: 'error' })}`, 'a'),
      input('{"broken', 'b'),
      input(' ', 'c'),
    ];
    const { metrics } = transformRecords(records, settings());
    expect(metrics).toMatchObject({
      records: { Ok: 2, Dropped: 1, ProcessingFailed: 0 },
      recordsByCategory: { runtime: 2 },
      eventsByCategory: { runtime: 3 },
      redactions: { email: 1 },
      eventsWithSchemaErrors: 2,
      unparseableEvents: 1,
    });
  });
});

describe('transformRecords with a defect', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it.each([
    ['in a window, its events normalized ahead by shape', true],
    ['in a run of records opening alike, transformed one by one', false],
  ])('fails only the record whose event throws: %s', (_, windowed) => {
    // A defect stood in by the redactor throwing on one message: nothing a real input can trigger.
    const real = Redactor.prototype.message;
    vi.spyOn(Redactor.prototype, 'message').mockImplementation(function (this: Redactor, text, counts) {
      if (text.includes('defect here')) throw new TypeError('a defect');
      return real.call(this, text, counts);
    });
    // Windowed: each record opens differently (its first field's value), so no run of records opening
    // alike is transformed one by one, and its events change shape (first field a, b, a), so a window of
    // them is normalized grouped by shape, ahead of the rows. Otherwise every record opens alike.
    const line = (i: number, message: string, first: string) =>
      json({
        [windowed ? first : 'a']: windowed ? i : 0,
        timestamp: '2026-01-02T03:04:00Z',
        level: 'info',
        service: 's',
        message: `${message} ${i}`,
      });
    // 300 records of 3 events: the broken one is in the second window of events normalized together.
    const records = Array.from({ length: 300 }, (_, i) =>
      input(
        [
          line(i, 'fine', 'a'),
          line(i, i === 77 ? 'defect here' : 'also fine', 'b'),
          line(i, 'last', 'a'),
        ].join('\n'),
        `r${i}`,
      ),
    );
    const { records: out } = transformRecords(records, settings());
    expect(out.map((o) => o.recordId)).toEqual(records.map((r) => r.recordId));
    for (const [i, o] of out.entries()) {
      if (i === 77) {
        expect(o).toEqual({ recordId: 'r77', result: 'ProcessingFailed', data: records[77]?.data });
        continue;
      }
      expect(o.result).toBe('Ok');
      expect(decodeRecords(o.data).map((r) => r.message)).toEqual([
        `fine ${i}`,
        `also fine ${i}`,
        `last ${i}`,
      ]);
    }
  });
});
