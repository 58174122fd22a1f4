import { describe, expect, it } from 'vitest';
import {
  aggregateArrivals,
  alertFromAlarmChange,
  arrivalFromObjectCreated,
  errorOutputType,
  pipelineAlarmInfo,
  pipelineKindMark,
} from '../../src/alerts/pipeline';
import { alarmFiring, alarmOk, errorObjectCreated } from './fixtures';

const info = { severity: 'high' as const, description: 'Firehose logs: data is late' };

describe('alertFromAlarmChange', () => {
  it('turns an OK → ALARM change into a firing alert with the datapoint, threshold and window', () => {
    const alert = alertFromAlarmChange(alarmFiring(), info);
    expect(alert).toMatchObject({
      source: 'cloudwatch',
      status: 'firing',
      kind: 'cloudwatch_alarm',
      rule: 'LogLakeStack-LogsFreshnessAlarm-9QW8E7R6T5Y4',
      severity: 'high',
      description: 'Firehose logs: data is late',
      value: 1312,
      threshold: 900,
      group: { DeliveryStreamName: 'LogLakeStack-LogsStream-AbCdEf' },
      firedAt: '2025-01-06T12:04:40.989Z',
      window: { start: '2025-01-06T11:59:40.989Z', end: '2025-01-06T12:04:40.989Z', minutes: 5 },
      details: { metric: 'AWS/Firehose/DeliveryToS3.DataFreshness', statistic: 'Maximum', state: 'ALARM' },
    });
  });

  it('turns an ALARM → OK change into a resolved alert', () => {
    expect(alertFromAlarmChange(alarmOk(), info)).toMatchObject({ status: 'resolved', value: 95 });
  });

  it('takes the description from the alarm’s own event and the severity from the construct', () => {
    const alert = alertFromAlarmChange(alarmFiring(), { severity: 'critical' });
    expect(alert).toMatchObject({
      severity: 'critical',
      description: 'Firehose logs: the oldest undelivered record is older than 900 s',
    });
  });

  it('ignores a change to INSUFFICIENT_DATA', () => {
    const event = alarmFiring();
    event.detail.state.value = 'INSUFFICIENT_DATA';
    expect(alertFromAlarmChange(event, info)).toBeUndefined();
  });

  it('falls back to the alarm description and high severity for an alarm it was not told about', () => {
    expect(alertFromAlarmChange(alarmFiring(), undefined)).toMatchObject({
      severity: 'high',
      description: 'Firehose logs: the oldest undelivered record is older than 900 s',
    });
  });

  it('finds the severity by the kind the description ends with, and shows the description without it', () => {
    const event = alarmFiring();
    const severities = { firehoseFreshness: 'critical', firehoseDelivery: 'low' } as const;

    const alert = alertFromAlarmChange(
      event,
      pipelineAlarmInfo(event.detail.configuration.description, severities),
    );

    expect(event.detail.configuration.description).toMatch(/ \[loglake:firehoseFreshness\]$/);
    expect(alert).toMatchObject({
      severity: 'critical',
      description: 'Firehose logs: the oldest undelivered record is older than 900 s',
    });
  });

  it('knows no severity for a description without a kind, or with a kind it was not told', () => {
    const severities = { firehoseDelivery: 'low' } as const;
    expect(pipelineAlarmInfo(`late${pipelineKindMark('firehoseDelivery')}`, severities)).toEqual({
      severity: 'low',
    });
    expect(pipelineAlarmInfo('late', severities)).toBeUndefined();
    expect(pipelineAlarmInfo(undefined, severities)).toBeUndefined();
    expect(pipelineAlarmInfo(`late${pipelineKindMark('transformErrors')}`, severities)).toBeUndefined();
    expect(
      pipelineAlarmInfo(`late${pipelineKindMark('firehoseDelivery')} and more`, severities),
    ).toBeUndefined();
  });

  it('gives the same id for the same change delivered twice', () => {
    expect(alertFromAlarmChange(alarmFiring(), info)?.id).toBe(alertFromAlarmChange(alarmFiring(), info)?.id);
  });
});

describe('arrivalFromObjectCreated', () => {
  it('records the error output type and the stream of an object under errors/', () => {
    const arrival = arrivalFromObjectCreated(errorObjectCreated(), {
      'loglakestack-logsbucket-1a2b3c4d5e6f': 'logs',
    });
    expect(arrival).toEqual({
      at: '2025-01-06T12:01:12.000Z',
      type: 'processing-failed',
      stream: 'logs',
      object: expect.stringMatching(
        /^loglakestack-logsbucket-1a2b3c4d5e6f\/errors\/processing-failed\/dt=2025-01-06\//,
      ),
    });
  });

  it('ignores objects outside the error prefix', () => {
    const event = errorObjectCreated();
    event.detail.object.key = 'logs/category=runtime/dt=2025-01-06/hour=12/x.parquet';
    expect(arrivalFromObjectCreated(event, {})).toBeUndefined();
  });
});

describe('errorOutputType', () => {
  it('reads the segment after errors/ and rejects other keys', () => {
    expect(errorOutputType('errors/format-conversion-failed/dt=2025-01-06/x')).toBe(
      'format-conversion-failed',
    );
    expect(errorOutputType('errors/x')).toBeUndefined();
    expect(errorOutputType('logs/errors/x/y')).toBeUndefined();
  });
});

describe('aggregateArrivals', () => {
  it('counts arrivals inside the window per type and stream, with a few samples', () => {
    const a = (at: string, type = 'processing-failed', stream = 'logs') => ({
      at,
      type,
      stream,
      object: `b/${at}`,
    });
    const rows = aggregateArrivals(
      [
        a('2025-01-06T12:00:00.000Z'),
        a('2025-01-06T12:04:59.999Z'),
        a('2025-01-06T12:05:00.000Z'),
        a('2025-01-06T12:01:00.000Z', 'format-conversion-failed'),
      ],
      { start: '2025-01-06T12:00:00.000Z', end: '2025-01-06T12:05:00.000Z' },
      1,
    );
    expect(rows).toEqual([
      {
        group: { type: 'processing-failed', stream: 'logs' },
        total: 2,
        errors: 2,
        samples: ['b/2025-01-06T12:00:00.000Z'],
      },
      {
        group: { type: 'format-conversion-failed', stream: 'logs' },
        total: 1,
        errors: 1,
        samples: ['b/2025-01-06T12:01:00.000Z'],
      },
    ]);
  });
});
