/**
 * Each access-log object shipped once (`shipObjectOnce`, `shipAccessLog`'s commits and checkpoints) over
 * the in-memory ledger, which is held to the DynamoDB ledger's contract here and against MiniStack's
 * DynamoDB (test/sources/dynamodb-ledger.emulator.test.ts). Firehose is a function answering as
 * `putRecordsReliably` does, failing on a fault plan.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config';
import {
  ObjectBusyError,
  type ObjectDelivery,
  type ObjectLedger,
  type OpenedObject,
  shipObjectOnce,
} from '../../src/sources/access-log-ledger';
import { type AccessLogSource, type PutBatch, shipAccessLog } from '../../src/sources/access-logs';
import { ledgerContract } from '../helpers/ledger-contract';
import { MemoryLedger } from '../helpers/memory-ledger';

const FIXTURES = join(__dirname, '..', 'fixtures', 'aws-sources');
const fixture = (file: string) => readFileSync(join(FIXTURES, file), 'utf8').split('\n');
const RULES = DEFAULT_CONFIG.transform;
const ALB: AccessLogSource = { format: 'alb' };
const OBJECT = 's3://elb-logs/AWSLogs/1/app.log.gz';
const DELIVERY: ObjectDelivery = { object: OBJECT, delivery: '0055AED6DCD90281E5' };
const T0 = Date.parse('2026-12-01T12:00:00Z');

/** The `access_log.line` of every event in `records`. */
const lineNumbers = (records: readonly Uint8Array[]) =>
  records.flatMap((d) =>
    Buffer.from(d)
      .toString('utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => Number((JSON.parse(l) as Record<string, string>)['access_log.line'])),
  );

/** Firehose acknowledging every record, remembering the line numbers it took. */
function firehose(): { put: PutBatch; taken: number[]; calls: () => number } {
  const taken: number[] = [];
  let calls = 0;
  return {
    put: async (records) => {
      calls++;
      taken.push(...lineNumbers(records));
      return { delivered: records.map(() => true) };
    },
    taken,
    calls: () => calls,
  };
}

/** ALB lines over two hours, 2xx to 5xx (several pack keys), and text the parser does not take. */
const albLine = fc
  .record({
    ip: fc.ipV4(),
    status: fc.constantFrom(200, 204, 403, 404, 502),
    minute: fc.integer({ min: 0, max: 119 }),
  })
  .map((f) => {
    const t = new Date(Date.UTC(2018, 6, 2, 22, f.minute)).toISOString().replace('.000Z', '.186641Z');
    return `https ${t} app/lb/50dc6c495c0c9188 ${f.ip}:2817 10.0.0.1:80 0.001 0.002 0.003 ${f.status} 200 1 2 "GET https://example.com:443/ HTTP/1.1" "curl/8" - -`;
  });
const text = fc.string({ minLength: 1, maxLength: 30 }).filter((s) => !/[\r\n]/.test(s) && s.trim() !== '');
const objectLines = fc.array(
  fc.oneof(
    { arbitrary: albLine, weight: 4 },
    { arbitrary: text, weight: 1 },
    { arbitrary: fc.constant(''), weight: 1 },
  ),
  { minLength: 1, maxLength: 50 },
);
/** Small records and batches: many commits per object. */
const SMALL = { maxRecordBytes: 1100, maxBatchRecords: 2 } as const;

describe('the in-memory ledger keeps the ledger contract', () => {
  const ledger = new MemoryLedger();
  ledgerContract(() => ledger);
});

describe('shipAccessLog commits', () => {
  it('checkpoints only lines acknowledged, all of them below it and none above (property)', async () => {
    await fc.assert(
      fc.asyncProperty(objectLines, async (lines) => {
        const { put, taken } = firehose();
        const checkpoints: { next: number; taken: number[] }[] = [];
        await shipAccessLog({
          lines,
          source: ALB,
          object: OBJECT,
          rules: RULES,
          put,
          ...SMALL,
          onCommit: async (next) => {
            checkpoints.push({ next, taken: [...taken].sort((a, b) => a - b) });
          },
        });
        const content = lines.flatMap((l, i) => (l.trim() === '' ? [] : [i + 1]));
        for (const { next, taken: acknowledged } of checkpoints)
          expect(acknowledged).toEqual(content.filter((n) => n < next));
        expect(checkpoints.at(-1)?.next).toBe(lines.length + 1);
      }),
      { numRuns: 60 },
    );
  });

  it('skips lines below fromLine, still reading the CloudFront #Fields header above them', async () => {
    const { put, taken } = firehose();
    const report = await shipAccessLog({
      lines: fixture('cloudfront.log'),
      source: { format: 'cloudfront' },
      object: OBJECT,
      rules: RULES,
      put,
      fromLine: 5,
    });
    expect(report).toMatchObject({ lines: 1, skipped: 2, unparsed: 0 });
    expect(taken).toEqual([5]);
  });
});

describe('shipObjectOnce', () => {
  const ship = { source: ALB, rules: RULES } as const;
  const opened = (lines: string[]) => async (): Promise<OpenedObject> => ({ lines });

  it('sends nothing for a second notification of a shipped object, and does not read it', async () => {
    // Prepare
    const ledger = new MemoryLedger();
    const lines = fixture('alb.log');
    const { put, taken } = firehose();
    await shipObjectOnce({
      delivery: DELIVERY,
      ledger,
      owner: 'req-1',
      leaseUntil: T0,
      open: opened(lines),
      ship: { ...ship, put },
      now: () => T0,
    });
    let read = false;

    // Act
    const again = await shipObjectOnce({
      delivery: DELIVERY,
      ledger,
      owner: 'req-2',
      leaseUntil: T0 + 1,
      open: async () => {
        read = true;
        return { lines };
      },
      ship: { ...ship, put },
    });

    // Assess
    expect(again).toMatchObject({ object: OBJECT, outcome: 'already-shipped', lines: 0, records: 0 });
    expect(read).toBe(false);
    expect(taken.sort()).toEqual([1, 2, 3]);
  });

  it('fails a notification while another attempt holds the lease, naming the object and the lease’s end', async () => {
    const ledger = new MemoryLedger();
    await ledger.claim(DELIVERY, 'req-1', T0 + 300_000, T0);
    const { put } = firehose();
    const error = await shipObjectOnce({
      delivery: DELIVERY,
      ledger,
      owner: 'req-2',
      leaseUntil: T0 + 400_000,
      open: opened(fixture('alb.log')),
      ship: { ...ship, put },
      now: () => T0 + 1_000,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ObjectBusyError);
    expect((error as Error).message).toBe(
      `${OBJECT}: being shipped by another attempt (req-1) until 2026-12-01T12:05:00.000Z; retried later`,
    );
  });

  it('closes an object deleted or written again before it was read, and sends nothing for it later', async () => {
    for (const missing of ['gone', 'replaced'] as const) {
      const ledger = new MemoryLedger();
      const { put, taken } = firehose();
      const run = (owner: string) =>
        shipObjectOnce({
          delivery: DELIVERY,
          ledger,
          owner,
          leaseUntil: T0,
          open: async () => ({ missing }),
          ship: { ...ship, put },
          now: () => T0,
        });
      expect(await run('req-1')).toMatchObject({ outcome: missing, attempt: 1 });
      expect(await run('req-2')).toMatchObject({ outcome: 'already-shipped' });
      expect(ledger.get(DELIVERY)?.done?.outcome).toBe(missing);
      expect(taken).toEqual([]);
    }
  });

  it('stops at its next checkpoint when another attempt took the lease over, sending no more', async () => {
    // Prepare: a ledger whose lease passes to another attempt after the first commit.
    const ledger = new MemoryLedger();
    const taker: ObjectLedger = {
      claim: (...a) => ledger.claim(...a),
      finish: (...a) => ledger.finish(...a),
      checkpoint: async (d, lease, next, now) => {
        await ledger.claim(d, 'req-other', now + 1, now);
        return ledger.checkpoint(d, lease, next);
      },
    };
    const { put, calls } = firehose();
    const lines = Array.from({ length: 40 }, (_, i) => `line ${i}`);

    // Act
    const report = await shipObjectOnce({
      delivery: DELIVERY,
      ledger: taker,
      owner: 'req-1',
      leaseUntil: T0,
      open: opened(lines),
      ship: { ...ship, put, ...SMALL, maxRecordBytes: 300 },
      now: () => T0,
    });

    // Assess
    expect(report.outcome).toBe('taken-over');
    expect(calls()).toBe(1);
    expect(ledger.get(DELIVERY)).toMatchObject({ state: 'in_progress', owner: 'req-other' });
  });

  it('resumes a retry after the last acknowledged commit', async () => {
    const ledger = new MemoryLedger();
    const lines = Array.from({ length: 40 }, (_, i) => `line ${i}`);
    let calls = 0;
    const taken: number[] = [];
    const put: PutBatch = async (records) => {
      if (++calls === 3) throw new Error('Firehose unreachable');
      taken.push(...lineNumbers(records));
      return { delivered: records.map(() => true) };
    };
    const run = () =>
      shipObjectOnce({
        delivery: DELIVERY,
        ledger,
        owner: 'req-1',
        leaseUntil: T0,
        open: opened(lines),
        ship: { ...ship, put, ...SMALL, maxRecordBytes: 300 },
        now: () => T0,
      });

    await expect(run()).rejects.toThrow('Firehose unreachable');
    const checkpoint = ledger.get(DELIVERY)?.nextLine ?? 0;
    const retry = await run();

    expect(checkpoint).toBeGreaterThan(1);
    expect(retry).toMatchObject({
      outcome: 'shipped',
      attempt: 2,
      fromLine: checkpoint,
      skipped: checkpoint - 1,
    });
    expect(taken.sort((a, b) => a - b)).toEqual(lines.map((_, i) => i + 1));
  });

  it('delivers every line at least once through any failures and retries, twice only if in flight when an attempt died (property)', async () => {
    type Fault = 'ok' | 'partial' | 'crash-after-put' | 'fail' | 'checkpoint-fails';
    const fault = fc.constantFrom<Fault>(
      'ok',
      'ok',
      'ok',
      'partial',
      'crash-after-put',
      'fail',
      'checkpoint-fails',
    );
    await fc.assert(
      fc.asyncProperty(
        objectLines,
        fc.array(fault, { maxLength: 30 }),
        fc.array(fc.boolean(), { maxLength: 30 }),
        async (lines, faults, sameOwner) => {
          const ledger = new MemoryLedger();
          const counts = new Map<number, number>();
          // Lines put after the attempt's last checkpoint: at risk of a second copy if it dies.
          let inFlight: number[] = [];
          const atRiskOnDeath = new Map<number, number>();
          let plan = [...faults];
          let checkpointFails = false;
          const put: PutBatch = async (records) => {
            const f = plan.shift() ?? 'ok';
            checkpointFails = f === 'checkpoint-fails';
            const taken =
              f === 'fail'
                ? []
                : f === 'partial'
                  ? records.slice(0, Math.floor(records.length / 2))
                  : records;
            for (const n of lineNumbers(taken)) counts.set(n, (counts.get(n) ?? 0) + 1);
            inFlight.push(...lineNumbers(taken));
            if (f === 'crash-after-put') throw new Error('the attempt died');
            return { delivered: records.map((r) => taken.includes(r)) };
          };
          const recording: ObjectLedger = {
            claim: (...a) => ledger.claim(...a),
            finish: (...a) => ledger.finish(...a),
            checkpoint: async (d, lease, next) => {
              if (checkpointFails) throw new Error('DynamoDB unreachable');
              const ok = await ledger.checkpoint(d, lease, next);
              inFlight = [];
              return ok;
            },
          };
          let clock = T0;
          let done = false;
          for (let attempt = 0; !done; attempt++) {
            if (attempt > 40) plan = [];
            inFlight = [];
            clock += 10_000;
            try {
              const report = await shipObjectOnce({
                delivery: DELIVERY,
                ledger: recording,
                // Lambda's retry (the same request id) or another notification after the lease ended.
                owner: sameOwner[attempt] ? 'req-1' : `req-${attempt}`,
                leaseUntil: clock + 5_000,
                open: opened(lines),
                ship: { source: ALB, rules: RULES, put, ...SMALL },
                now: () => clock,
              });
              expect(report.outcome).toBe('shipped');
              done = true;
            } catch {
              for (const n of inFlight) atRiskOnDeath.set(n, (atRiskOnDeath.get(n) ?? 0) + 1);
            }
          }
          // A notification after success sends nothing.
          const before = [...counts.values()].reduce((a, b) => a + b, 0);
          const again = await shipObjectOnce({
            delivery: DELIVERY,
            ledger: recording,
            owner: 'late',
            leaseUntil: clock,
            open: opened(lines),
            ship: { source: ALB, rules: RULES, put },
            now: () => clock,
          });
          expect(again.outcome).toBe('already-shipped');
          expect([...counts.values()].reduce((a, b) => a + b, 0)).toBe(before);

          lines.forEach((l, i) => {
            const n = i + 1;
            if (l.trim() === '') return;
            const copies = counts.get(n) ?? 0;
            expect(copies, `line ${n}`).toBeGreaterThanOrEqual(1);
            expect(copies - 1, `extra copies of line ${n}`).toBeLessThanOrEqual(atRiskOnDeath.get(n) ?? 0);
          });
          expect(ledger.get(DELIVERY)).toMatchObject({ state: 'done', nextLine: lines.length + 1 });
        },
      ),
      { numRuns: 80 },
    );
  });
});
