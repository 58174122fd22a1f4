/**
 * The alarm Lambda's rule queries are access events: each Athena query of a rule puts one event on the
 * audit delivery stream, as the function's role, command `alert-evaluate`, naming the rule, the
 * categories it read, the rows and the bytes Athena scanned. Athena and Firehose are stubbed with
 * aws-sdk-client-mock; the rules, the query builder, the run loop and the scope are the Lambda's own.
 */
import { AthenaClient } from '@aws-sdk/client-athena';
import { FirehoseClient, PutRecordCommand } from '@aws-sdk/client-firehose';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ALARM_ACCESS_COMMAND, alarmAccessScope } from '../../lambdas/alarm/access';
import type { Alert } from '../../src/alerts/alert';
import { type AlertRule, DEFAULT_ALERTS, enabledRules } from '../../src/alerts/config';
import { LakeSource } from '../../src/alerts/lake';
import { MemoryStateStore, runEvaluation } from '../../src/alerts/run';
import { ACCESS_SERVICE, withAccessScope } from '../../src/audit/access';
import { athenaRows } from '../../src/query/athena';
import { answerAthena, putEvents as eventsOn } from '../helpers/athena-stub';
import { ALARM_ACCESS_AUDIT } from './fixtures';

const athena = mockClient(AthenaClient);
const firehose = mockClient(FirehoseClient);

beforeEach(() => {
  athena.reset();
  firehose.reset();
  answerAthena(athena, {
    columns: [
      'service',
      'count',
      'errors',
      'error_rate',
      'first_seen',
      'last_seen',
      'sample_correlation_ids',
    ],
    rows: [
      ['checkout', '200', '30', '0.15', '2025-01-06 11:58:00.000', '2025-01-06 12:02:59.000', '[]'],
      ['search', '400', '4', '0.01', '2025-01-06 11:58:00.000', '2025-01-06 12:02:59.000', '[]'],
    ],
    scannedBytes: 123_456,
  });
});

/** The Lambda's observation source over the stubbed Athena. */
function source(client: AthenaClient): LakeSource {
  return new LakeSource({
    dialect: 'athena',
    maxSamples: 5,
    maxGroups: 50,
    lockedCategories: ['security', 'audit'],
    tables: (streams) => streams.map((s) => ({ database: 'loglake', table: s })),
    run: (built) => athenaRows(client, built, { workGroup: 'loglake', database: 'loglake', pollMs: 1 }),
    arrivals: async () => [],
  });
}

const defaultRules = (...names: string[]) =>
  enabledRules(DEFAULT_ALERTS).filter((r) => names.includes(r.name));

async function evaluate(rules: AlertRule[]) {
  const client = new AthenaClient({ region: 'eu-west-1' });
  const sent: Alert[] = [];
  const scope = alarmAccessScope(
    ALARM_ACCESS_AUDIT,
    ['security', 'audit'],
    new FirehoseClient({ region: 'eu-west-1' }),
  );
  const report = await withAccessScope(scope, () =>
    runEvaluation(
      rules,
      new Date('2025-01-06T12:05:00Z'),
      {
        source: source(client),
        store: new MemoryStateStore(),
        notifier: {
          send: async (a) => {
            sent.push(...a);
          },
        },
      },
      { delayMinutes: 2 },
    ),
  );
  return { report, sent };
}

const putEvents = () => eventsOn(firehose, ALARM_ACCESS_AUDIT.stream);

describe('access events of the alarm Lambda', () => {
  it('puts one event per rule query on the audit stream: role, alert-evaluate, rule, categories, rows, bytes', async () => {
    // Arrange
    firehose.on(PutRecordCommand).resolves({ RecordId: 'r-1' });
    const rules = defaultRules('error-rate');

    // Act
    const { report, sent } = await evaluate(rules);

    // Assert
    expect(report.outcomes.map((o) => o.outcome)).toEqual(['evaluated']);
    expect(sent.map((a) => a.rule)).toEqual(['error-rate']);
    const events = putEvents();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ category: 'audit', service: ACCESS_SERVICE, level: 'INFO' });
    expect(events[0]?.access).toMatchObject({
      principal: ALARM_ACCESS_AUDIT.principal,
      persona: 'none',
      command: ALARM_ACCESS_COMMAND,
      rule: 'error-rate',
      engine: 'athena',
      lake: 'loglake/loglake',
      categories: 'runtime,framework,errors,api_access',
      rows: '2',
      bytes_scanned: '123456',
      query_id: 'q-1',
      outcome: 'completed',
      flags: '',
    });
  });

  it('names each rule in its own event when several rules run in one evaluation', async () => {
    // Arrange
    firehose.on(PutRecordCommand).resolves({ RecordId: 'r-1' });
    const rules = defaultRules('error-rate', 'security-critical');

    // Act
    await evaluate(rules);

    // Assert
    const events = putEvents().map((e) => [e.access.rule, e.access.categories]);
    expect(events).toEqual([
      ['error-rate', 'runtime,framework,errors,api_access'],
      ['security-critical', 'security'],
    ]);
  });

  it('fails the rule (so the invocation is retried) when the access event cannot be put', async () => {
    // Arrange
    firehose.on(PutRecordCommand).rejects(new Error('ResourceNotFoundException: no stream loglake-audit'));
    const rules = defaultRules('error-rate');

    // Act
    const run = evaluate(rules);

    // Assert: the evaluation fails naming the audit, and the rows of the unrecorded read were not used
    await expect(run).rejects.toThrow(/error-rate/);
    const error = await run.catch((e: unknown) => e);
    const outcome = (error as { report?: { outcomes: Array<{ error?: Error }> } }).report?.outcomes[0];
    expect(outcome?.error?.message).toMatch(/access event of this query could not be recorded/);
  });
});
