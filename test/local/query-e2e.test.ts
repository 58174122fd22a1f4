/**
 * The query features end to end on the local pipeline: events sent with the real Firehose client to the
 * local endpoint, transformed and delivered as Parquet, then asked for with the CLI's own commands
 * (`search --where`, `stats --agg`, `search --context`, `patterns`, `tail`), as a user runs them.
 */
import { PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patternsCommand, patternsFlags } from '../../src/cli/commands/patterns';
import { searchCommand, searchFlags } from '../../src/cli/commands/search';
import { statsCommand, statsFlags } from '../../src/cli/commands/stats';
import { tailCommand, tailFlags } from '../../src/cli/commands/tail';
import { parseFlags } from '../../src/cli/flags';
import type { CliIO } from '../../src/cli/io';
import type { SearchRecord } from '../../src/query';
import { startTestLocal, type TestLocal } from '../helpers/local';

let local: TestLocal;
const now = Date.now();
const MODELS = ['gpt-4o', 'claude', 'gpt-4o-mini'] as const;

/** The organisation's agent events: model, cost and tokens per request, some failing. */
function agentEvent(i: number): Record<string, unknown> {
  return {
    timestamp: new Date(now - (60 - i) * 30_000).toISOString(),
    level: i % 5 === 0 ? 'ERROR' : 'INFO',
    service: i % 2 === 0 ? 'agents' : 'worker',
    message:
      i % 5 === 0 ? `tool call ${i} failed after ${i * 10} ms` : `request ${1000 + i} served in ${i} ms`,
    correlation_id: `e2e-${i}`,
    duration_ms: i * 10,
    context: { agent_id: i % 3 === 0 ? 'agent_coder' : 'agent_reviewer' },
    model: MODELS[i % 3],
    cost_usd: (i % 7) / 100,
    tokens: 100 + i,
    ...(i % 10 === 0 ? { stack_trace: `Error: upstream 503\n    at call (tool.js:${i})` } : {}),
  };
}
const EVENTS = Array.from({ length: 60 }, (_, i) => agentEvent(i));

async function send(events: readonly Record<string, unknown>[]): Promise<void> {
  const out = await local.client.send(
    new PutRecordBatchCommand({
      DeliveryStreamName: 'logs',
      Records: events.map((e) => ({ Data: Buffer.from(`${JSON.stringify(e)}\n`) })),
    }),
  );
  expect(out.FailedPutCount).toBe(0);
}

function captured(): CliIO & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: (t) => {
      out += t;
    },
    stderr: (t) => {
      err += t;
    },
    out: () => out,
    err: () => err,
  };
}

const lake = () => ({ dataDir: local.dataDir, since: '2h' });

beforeAll(async () => {
  local = await startTestLocal({ flushSeconds: 1 });
  await send(EVENTS);
  await local.pipeline.flush();
});
afterAll(async () => {
  await local?.dispose();
});

/** The records `searchCommand` printed, as it printed them. */
async function found(
  text: string | undefined,
  flags: Parameters<typeof searchCommand>[1],
  io = captured(),
): Promise<SearchRecord[]> {
  const records: SearchRecord[] = [];
  await searchCommand(text, flags, io, (r) => records.push(r));
  return records;
}

describe('search --where through the local pipeline', () => {
  it('finds the errors of one agent by a nested attribute', async () => {
    // Act
    const io = captured();
    const records = await found(
      undefined,
      parseFlags(searchFlags, {
        ...lake(),
        where: ['attributes.context.agent_id=agent_coder'],
        level: ['ERROR'],
        format: 'json',
      }),
      io,
    );

    // Assess: i divisible by 3 (agent_coder) and by 5 (ERROR).
    const expected = EVENTS.filter((_, i) => i % 15 === 0).map((e) => e.correlation_id);
    expect(records.map((r) => r.correlation_id).sort()).toEqual([...expected].sort());
    expect((JSON.parse(io.out()) as SearchRecord[]).length).toBe(expected.length);
  });

  it('matches free text in the stack trace, numeric conditions on attributes and a case-sensitive regex', async () => {
    // Act
    const inTrace = await found(
      undefined,
      parseFlags(searchFlags, { ...lake(), format: 'json' }),
      captured(),
    );
    const byTrace = await found(
      'upstream 503',
      parseFlags(searchFlags, {
        ...lake(),
        where: ['metrics.tokens>=140', 'duration_ms<500'],
        format: 'json',
      }),
      captured(),
    );
    const regexLower = await found(
      undefined,
      parseFlags(searchFlags, { ...lake(), regex: 'TOOL call \\d+ failed', format: 'json' }),
      captured(),
    );
    const regexExact = await found(
      undefined,
      parseFlags(searchFlags, {
        ...lake(),
        regex: 'TOOL call \\d+ failed',
        caseSensitive: true,
        format: 'json',
      }),
      captured(),
    );

    // Assess
    expect(inTrace).toHaveLength(60);
    expect(byTrace.map((r) => r.correlation_id)).toEqual(['e2e-40']);
    expect(regexLower).toHaveLength(12);
    expect(regexExact).toHaveLength(0);
  });
});

describe('stats --agg through the local pipeline', () => {
  it('gives total cost, tokens and average cost per request by model, and p95 latency, keyed FN(FIELD)', async () => {
    // Act
    const io = captured();
    await statsCommand(
      parseFlags(statsFlags, {
        ...lake(),
        groupBy: ['attributes.model'],
        agg: ['sum:metrics.cost_usd', 'sum:metrics.tokens', 'avg:metrics.cost_usd', 'p95:duration_ms'],
        format: 'json',
      }),
      io,
    );

    // Assess: the exact keys of the issue, the values computed from what was sent.
    const rows = JSON.parse(io.out()) as Array<Record<string, number | string>>;
    expect(rows).toHaveLength(3);
    for (const model of MODELS) {
      const mine = EVENTS.filter((e) => e.model === model);
      const row = rows.find((r) => r['attributes.model'] === model);
      expect(Object.keys(row ?? {})).toEqual([
        'attributes.model',
        'count',
        'sum(metrics.cost_usd)',
        'sum(metrics.tokens)',
        'avg(metrics.cost_usd)',
        'p95(duration_ms)',
      ]);
      const costs = mine.map((e) => Number(e.cost_usd));
      const durations = mine.map((e) => Number(e.duration_ms)).sort((a, b) => a - b);
      const rank = 0.95 * (durations.length - 1);
      const lo = durations[Math.floor(rank)] ?? 0;
      const hi = durations[Math.ceil(rank)] ?? 0;
      expect(row?.count).toBe(mine.length);
      expect(row?.['sum(metrics.cost_usd)']).toBeCloseTo(
        costs.reduce((a, b) => a + b, 0),
        9,
      );
      expect(row?.['sum(metrics.tokens)']).toBe(mine.reduce((a, e) => a + Number(e.tokens), 0));
      expect(row?.['avg(metrics.cost_usd)']).toBeCloseTo(costs.reduce((a, b) => a + b, 0) / mine.length, 9);
      expect(row?.['p95(duration_ms)']).toBeCloseTo(lo + (hi - lo) * (rank - Math.floor(rank)), 9);
    }
  });

  it('prints p95 latency per service as a table', async () => {
    // Act
    const io = captured();
    await statsCommand(
      parseFlags(statsFlags, { ...lake(), groupBy: ['service'], agg: ['p95:duration_ms'] }),
      io,
    );

    // Assess
    const [header, ...lines] = io.out().trim().split('\n');
    expect(header?.split(/\s+/)).toEqual(['service', 'COUNT', 'p95(duration_ms)']);
    expect(lines.map((l) => l.split(/\s+/)[0]).sort()).toEqual(['agents', 'worker']);
  });
});

describe('search --context through the local pipeline', () => {
  it('shows the events before and after each hit from the same service', async () => {
    // Act: the hit is e2e-20 (agents); its service's neighbours are e2e-18 and e2e-22.
    const io = captured();
    await searchCommand(
      undefined,
      parseFlags(searchFlags, { ...lake(), correlationId: 'e2e-20', context: 1, format: 'json' }),
      io,
    );

    // Assess
    const blocks = JSON.parse(io.out()) as Array<{
      key: string;
      records: Array<SearchRecord & { context_hit: boolean }>;
    }>;
    expect(blocks).toHaveLength(1);
    expect(blocks[0]?.key).toBe('agents');
    expect(blocks[0]?.records.map((r) => [r.correlation_id, r.context_hit])).toEqual([
      ['e2e-18', false],
      ['e2e-20', true],
      ['e2e-22', false],
    ]);
  });
});

describe('patterns through the local pipeline', () => {
  it('groups the messages into their templates with counts, most frequent first', async () => {
    // Act
    const io = captured();
    const patterns = await patternsCommand(
      undefined,
      parseFlags(patternsFlags, { ...lake(), format: 'json' }),
      io,
    );

    // Assess
    expect(patterns.map((p) => [p.template, p.count])).toEqual([
      ['request <NUM> served in <NUM> ms', 48],
      ['tool call <NUM> failed after <NUM> ms', 12],
    ]);
    expect(patterns[0]?.example).toMatch(/^request \d+ served in \d+ ms$/);
    const json = JSON.parse(io.out()) as Array<Record<string, unknown>>;
    expect(Object.keys(json[0] ?? {})).toEqual([
      'pattern',
      'count',
      'first_seen',
      'last_seen',
      'example',
      'templates',
    ]);
  });
});

describe('tail through the local pipeline', () => {
  it('prints the matching events delivered after it started, once each, and none from before', async () => {
    // Prepare
    const controller = new AbortController();
    const io = captured();
    const printed: SearchRecord[] = [];
    let rounds = 0;
    let firstRound: () => void = () => undefined;
    const started = new Promise<void>((resolve) => {
      firstRound = resolve;
    });
    const tail = tailCommand(
      undefined,
      parseFlags(tailFlags, { dataDir: local.dataDir, where: ['attributes.model=claude'], format: 'ndjson' }),
      io,
      {
        signal: controller.signal,
        onRound: (fresh) => {
          rounds++;
          printed.push(...fresh);
          if (rounds === 1) firstRound();
          if (printed.length >= 4) controller.abort();
        },
      },
    );
    await started;

    // Act: new events, half for the model followed, delivered by the pipeline's own 1 s flush.
    const fresh = Array.from({ length: 8 }, (_, k) => ({
      ...agentEvent(100 + k),
      timestamp: new Date().toISOString(),
      model: k % 2 === 0 ? 'claude' : 'gpt-4o',
      correlation_id: `tail-${k}`,
    }));
    await send(fresh.slice(0, 4));
    await send(fresh.slice(4));
    const timeout = setTimeout(() => controller.abort(), 60_000);
    const total = await tail;
    clearTimeout(timeout);

    // Assess
    expect(printed.map((r) => r.correlation_id).sort()).toEqual(['tail-0', 'tail-2', 'tail-4', 'tail-6']);
    expect(total).toBe(4);
    expect(io.out().trim().split('\n')).toHaveLength(4);
    expect(rounds).toBeGreaterThanOrEqual(2);
  });
});

describe('a locked category sent on the logs stream of the local lake', () => {
  it('is stored in its own category, unforwarded and unflagged, and found by a search of that category', async () => {
    // Prepare: the local pipeline has one tree and no audit stream to forward to.
    await send([
      {
        timestamp: new Date().toISOString(),
        level: 'WARN',
        service: 'auth',
        category: 'security',
        message: 'login failed for an administrator',
        correlation_id: 'locked-on-logs',
      },
    ]);
    await local.pipeline.flush();

    // Act
    const records = await found(
      undefined,
      parseFlags(searchFlags, { ...lake(), category: ['security'], format: 'json' }),
    );

    // Assess
    expect(records.map((r) => [r.correlation_id, r.category, r.schema_errors])).toEqual([
      ['locked-on-logs', 'security', []],
    ]);
  });
});
