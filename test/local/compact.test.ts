import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { IntegrityLog } from '../../src/compliance/integrity';
import { verifyLocalIntegrity } from '../../src/compliance/verify';
import { DEFAULT_CONFIG } from '../../src/config';
import {
  COMPACTION_STEPS,
  type CompactionReport,
  type CompactionSettings,
  type CompactionStep,
  Compactor,
  compactionSettings,
  SimulatedCrash,
} from '../../src/local/compact';
import {
  COMPACTED_PREFIX,
  type CompactionMarker,
  CorruptMarkerError,
  listPartitions,
  markerDir,
  visibleNames,
} from '../../src/local/lake-files';
import { LocalPipeline } from '../../src/local/pipeline';
import { dataDirTransform } from '../../src/local/transform';
import { duckdbString } from '../../src/query/duckdb';
import { deliverBatches, hourStart, idCounts, type LakeEvent, lakeFiles } from '../helpers/lake';
import { searchLake } from '../helpers/local';

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'loglake-compact-'));
});
afterEach(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

const SERVICES = ['web', 'api', 'worker'] as const;

/** `n` events per batch in the hour `hoursAgo`, services and levels mixed, ids `<prefix>-<batch>-<i>`. */
function batches(prefix: string, count: number, n: number, hoursAgo: number): LakeEvent[][] {
  const start = hourStart(hoursAgo);
  return Array.from({ length: count }, (_, b) =>
    Array.from({ length: n }, (_, i) => ({
      id: `${prefix}-${b}-${i}`,
      at: start + (((b * n + i) * 7_919) % 3_600_000),
      service: SERVICES[(b + i) % SERVICES.length] as string,
      level: (['INFO', 'ERROR', 'DEBUG', 'INFO'] as const)[i % 4] as LakeEvent['level'],
    })),
  );
}

/** What the compliance report's verification finds in the lake against its integrity log. */
function integrityFindings(): string[] {
  const result = verifyLocalIntegrity(dataDir, {
    since: new Date(0),
    until: new Date(Date.now() + 86_400_000),
    now: new Date(),
    expiresAt: () => undefined,
  });
  return result.findings.map((f) => `${f.kind} ${f.key}`);
}

async function ids(): Promise<Map<string, number>> {
  return idCounts((await searchLake(dataDir)).map((r) => r.correlation_id));
}

function expectExactlyOnce(counts: Map<string, number>, expected: readonly LakeEvent[]): void {
  expect([...counts.values()].filter((n) => n !== 1)).toEqual([]);
  expect([...counts.keys()].sort()).toEqual(expected.map((e) => e.id).sort());
}

function settings(over: Partial<CompactionSettings> = {}): CompactionSettings {
  return compactionSettings(1000, { graceMs: 0, ...over });
}

async function compactOnce(
  over: Partial<CompactionSettings> = {},
  onStep?: (step: CompactionStep, partition: string) => void,
  now?: () => Date,
) {
  const compactor = await Compactor.open({
    dataDir,
    settings: settings(over),
    ...(onStep ? { onStep } : {}),
  });
  try {
    compactor.tidy(now?.() ?? new Date());
    return await compactor.run(now ? { now } : {});
  } finally {
    compactor.close();
  }
}

function byPartition(files: readonly string[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const f of files) {
    const dir = f.slice(0, f.lastIndexOf('/'));
    m.set(dir, [...(m.get(dir) ?? []), f.slice(f.lastIndexOf('/') + 1)]);
  }
  return m;
}

async function sortKeys(file: string): Promise<Array<{ service: string; ts: string }>> {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  try {
    const r = await c.runAndReadAll(
      `SELECT service, CAST("timestamp" AS VARCHAR) AS ts FROM read_parquet(${duckdbString(file)}, file_row_number = true) ORDER BY file_row_number`,
    );
    return r.getRowObjectsJson() as Array<{ service: string; ts: string }>;
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

const sorted = (keys: ReadonlyArray<{ service: string; ts: string }>) =>
  keys.every((k, i) => {
    const prev = keys[i - 1];
    return !prev || prev.service < k.service || (prev.service === k.service && prev.ts <= k.ts);
  });

describe('visibleNames', () => {
  const marker = (sources: string[], outputs: string[]): CompactionMarker => ({
    version: 1,
    run: 'r',
    partition: 'p',
    sources,
    outputs,
    rows: 1,
    created: 0,
  });

  it('shows every file of a partition without markers', () => {
    expect(visibleNames(['a.parquet', 'b.parquet'], [])).toEqual(['a.parquet', 'b.parquet']);
  });

  it('hides the sources once every output is listed (committed)', () => {
    const m = marker(['a.parquet', 'b.parquet'], ['c-0.parquet', 'c-1.parquet']);
    expect(visibleNames(['a.parquet', 'b.parquet', 'c-0.parquet', 'c-1.parquet', 'd.parquet'], [m])).toEqual([
      'c-0.parquet',
      'c-1.parquet',
      'd.parquet',
    ]);
  });

  it('hides the outputs listed so far while one is missing (not committed)', () => {
    const m = marker(['a.parquet', 'b.parquet'], ['c-0.parquet', 'c-1.parquet']);
    expect(visibleNames(['a.parquet', 'b.parquet', 'c-0.parquet'], [m])).toEqual(['a.parquet', 'b.parquet']);
  });

  it('shows the outputs alone once the sources are deleted', () => {
    const m = marker(['a.parquet'], ['c-0.parquet']);
    expect(visibleNames(['c-0.parquet'], [m])).toEqual(['c-0.parquet']);
  });
});

describe('Compactor', () => {
  it('rewrites each closed hour of many delivered files into one file sorted by service then time, every record once', async () => {
    // Prepare: 8 deliveries into each of two closed hours (three categories by level).
    const events = [...batches('a', 8, 12, 3), ...batches('b', 8, 12, 2)];
    await deliverBatches(dataDir, events);
    const before = byPartition(lakeFiles(dataDir));
    expect(Math.min(...[...before.values()].map((f) => f.length))).toBeGreaterThanOrEqual(8);

    // Act
    const report = await compactOnce();

    // Assess
    const after = byPartition(lakeFiles(dataDir));
    expect([...after.keys()]).toEqual([...before.keys()]);
    for (const [dir, files] of after) {
      expect(files).toHaveLength(1);
      expect(files[0]?.startsWith(COMPACTED_PREFIX)).toBe(true);
      const keys = await sortKeys(join(dataDir, 'logs', dir, files[0] as string));
      expect(sorted(keys)).toBe(true);
    }
    expect(report.compacted).toHaveLength(before.size);
    expect(report.compacted.reduce((s, r) => s + r.rows, 0)).toBe(events.flat().length);
    expectExactlyOnce(await ids(), events.flat());
    expect(readdirSync(markerDir(dataDir)).filter((n) => n.endsWith('.json'))).toEqual([]);
  });

  it("delivers and compacts a lake whose path holds glob characters and a quote (lake [x] o'k)", async () => {
    // Prepare: DuckDB reads every path the writer and the compactor hand it as a glob.
    const parent = dataDir;
    dataDir = join(parent, "lake [x] o'k");
    const events = batches('g', 3, 10, 3);

    // Act
    await deliverBatches(dataDir, events);
    const delivered = lakeFiles(dataDir).length;
    const report = await compactOnce();

    // Assess
    expect(delivered).toBeGreaterThanOrEqual(3);
    expect(report.compacted.reduce((s, r) => s + r.rows, 0)).toBe(events.flat().length);
    for (const files of byPartition(lakeFiles(dataDir)).values()) expect(files).toHaveLength(1);
    expectExactlyOnce(await ids(), events.flat());
    dataDir = parent;
  });

  it('leaves the current hour alone until it holds openMinFiles delivered files, then compacts it', async () => {
    // Prepare: 4 deliveries in the current hour, which ends in the future (3 categories: 3 partitions).
    const events = batches('now', 5, 5, 0).map((b) =>
      b.map((e) => ({ ...e, at: Math.min(e.at, Date.now() - 1000) })),
    );
    await deliverBatches(dataDir, events.slice(0, 4));
    const before = lakeFiles(dataDir);

    // Act: a pass with 4 files waiting per partition, then one with 5.
    const early = await compactOnce({ openMinFiles: 5 });
    const untouched = lakeFiles(dataDir);
    await deliverBatches(dataDir, events.slice(4));
    const report = await compactOnce({ openMinFiles: 5 });

    // Assess
    expect(early.compacted).toEqual([]);
    expect(untouched).toEqual(before);
    expect(report.compacted.map((r) => r.sourceFiles)).toEqual([5, 5, 5]);
    for (const f of byPartition(lakeFiles(dataDir)).values()) expect(f).toHaveLength(1);
    expectExactlyOnce(await ids(), events.flat());
  });

  it('compacts an open hour pass by pass, taking only files no pending compaction names', async () => {
    // Prepare: an hour seen from inside it (a simulated clock), a 10-minute grace period, and a
    // compactor that stays open across passes, as the pipeline's does.
    const h = hourStart(2);
    let now = h + 20 * 60_000;
    const clock = () => new Date(now);
    const compactor = await Compactor.open({
      dataDir,
      settings: settings({ graceMs: 600_000, openMinFiles: 3 }),
    });
    const sent: LakeEvent[] = [];
    const deliver = async (prefix: string, count: number) => {
      const bs = batches(prefix, count, 6, 2);
      sent.push(...bs.flat());
      await deliverBatches(dataDir, bs);
    };
    const pending = () => listPartitions(dataDir).flatMap((p) => p.markers);
    try {
      // Act + Assess, pass by pass.
      await deliver('a', 6);
      const first = await compactor.run({ now: clock });
      const firstMarkers = pending();
      expect(first.compacted.map((r) => r.sourceFiles)).toEqual([6, 6, 6]);
      expectExactlyOnce(await ids(), sent);

      // Five minutes on, the first compactions are in their grace period: only the new files go.
      await deliver('b', 4);
      now += 5 * 60_000;
      const second = await compactor.run({ now: clock });
      const secondMarkers = pending().filter((m) => !firstMarkers.some((f) => f.run === m.run));
      expect(second.compacted.map((r) => r.sourceFiles)).toEqual([4, 4, 4]);
      const named = new Set(firstMarkers.flatMap((m) => [...m.sources, ...m.outputs]));
      expect(secondMarkers.flatMap((m) => m.sources).filter((n) => named.has(n))).toEqual([]);
      expect(secondMarkers.flatMap((m) => m.sources).some((n) => n.startsWith(COMPACTED_PREFIX))).toBe(false);
      expectExactlyOnce(await ids(), sent);

      // Fewer than openMinFiles new files: nothing.
      await deliver('c', 2);
      now += 2 * 60_000;
      expect((await compactor.run({ now: clock })).compacted).toEqual([]);

      // Past the first grace period: its sources are gone and its outputs join the new files.
      await deliver('d', 1);
      now += 4 * 60_000;
      const third = await compactor.run({ now: clock });
      expect(third.deletedFiles).toBe(18);
      expect(third.compacted.map((r) => r.sourceFiles)).toEqual([4, 4, 4]);
      const firstOutputs = new Set(firstMarkers.flatMap((m) => m.outputs));
      const thirdSources = pending()
        .filter((m) => m.created === now)
        .flatMap((m) => m.sources);
      expect(thirdSources.filter((n) => firstOutputs.has(n)).sort()).toEqual([...firstOutputs].sort());
      expectExactlyOnce(await ids(), sent);

      // Once the hour is closed and every grace period over: one file per partition.
      now = h + 3_600_000 + compactor.settings.closedAfterMs + 600_000;
      const closing = await compactor.run({ now: clock });
      expect(closing.compacted).toHaveLength(3);
      now += 600_000;
      compactor.tidy(clock());
    } finally {
      compactor.close();
    }
    for (const f of byPartition(lakeFiles(dataDir)).values()) expect(f).toHaveLength(1);
    expect(readdirSync(markerDir(dataDir)).filter((n) => n.endsWith('.json'))).toEqual([]);
    expectExactlyOnce(await ids(), sent);
    // Every compaction (merges of earlier outputs included) is in the integrity log.
    expect(integrityFindings()).toEqual([]);
  });

  it('records each compaction in the integrity log before its sources go, a crash right after the commit included', async () => {
    // Prepare: closed hours delivered by the pipeline, which keeps the lake's integrity log.
    const events = [...batches('i', 5, 6, 3), ...batches('j', 4, 6, 2)];
    await deliverBatches(dataDir, events);
    let commits = 0;
    const crashAfterFirstCommit = (s: CompactionStep) => {
      if (s === 'committed' && ++commits === 1) throw new SimulatedCrash(s);
    };

    // Act: the first compaction dies between its commit and its record; the next start records it,
    // then deletes its sources.
    await expect(compactOnce({ graceMs: 600_000 }, crashAfterFirstCommit)).rejects.toBeInstanceOf(
      SimulatedCrash,
    );
    const afterCrash = integrityFindings();
    const report = await compactOnce();

    // Assess: until that start, the committed outputs are the only thing unaccounted for.
    expect(afterCrash).toHaveLength(1);
    expect(afterCrash[0]).toMatch(/^unrecorded logs\/.*\/compacted-.*\.parquet$/);
    expect(report.deletedFiles).toBeGreaterThan(0);
    expect(integrityFindings()).toEqual([]);
    const log = readFileSync(join(dataDir, '.loglake', 'integrity', 'chain.jsonl'), 'utf8');
    expect(log.split('\n').filter((l) => l.includes('"type":"compaction"'))).toHaveLength(
      byPartition(lakeFiles(dataDir)).size,
    );
  });

  it('keeps the sources of a compaction whose integrity record failed until a later pass records it', async () => {
    // Prepare: closed hours delivered by the pipeline; the integrity log's appends fail as on a full
    // disk while `full` holds (a fault injected at the log, the compactor's dependency).
    const events = batches('f', 5, 6, 3);
    await deliverBatches(dataDir, events);
    let full = true;
    const record = IntegrityLog.prototype.recordCompaction;
    vi.spyOn(IntegrityLog.prototype, 'recordCompaction').mockImplementation(function (
      this: IntegrityLog,
      ...args: Parameters<IntegrityLog['recordCompaction']>
    ) {
      if (full) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      return record.apply(this, args);
    });
    const compactor = await Compactor.open({ dataDir, settings: settings({ graceMs: 0 }) });
    try {
      // Act: a pass while the disk is full, then one after space was freed.
      const whileFull = await compactor.run();
      const findingsWhileFull = integrityFindings();
      const filesWhileFull = lakeFiles(dataDir).length;
      full = false;
      const after = await compactor.run();

      // Assess: the failed record fails the pass's partitions, and their sources stay (a grace period
      // of zero notwithstanding): the outputs are the only thing unaccounted for, no row is counted twice.
      expect(whileFull.failed.length).toBeGreaterThan(0);
      for (const f of whileFull.failed) expect(f.error).toMatch(/ENOSPC/);
      expect(whileFull.deletedFiles).toBe(0);
      expect(whileFull.pending).toBe(whileFull.failed.length);
      expect(findingsWhileFull).toHaveLength(whileFull.failed.length);
      for (const f of findingsWhileFull) expect(f).toMatch(/^unrecorded logs\/.*\/compacted-.*\.parquet$/);
      expect(filesWhileFull).toBeGreaterThan(whileFull.failed.length);
      expectExactlyOnce(await ids(), events.flat());
      // Then recorded, and only then the sources deleted: nothing unaccounted for.
      expect(after.deletedFiles).toBeGreaterThan(0);
      expect(integrityFindings()).toEqual([]);
      for (const f of byPartition(lakeFiles(dataDir)).values()) expect(f).toHaveLength(1);
      expectExactlyOnce(await ids(), events.flat());
    } finally {
      compactor.close();
      vi.restoreAllMocks();
    }
  });

  it('compacts files arriving later in an already compacted hour in a later pass', async () => {
    // Prepare: a compacted hour, then a backfill into it.
    const first = batches('first', 5, 6, 4);
    await deliverBatches(dataDir, first);
    await compactOnce();
    const late = batches('late', 3, 4, 4);
    await deliverBatches(dataDir, late);
    const withLate = byPartition(lakeFiles(dataDir));
    expect(Math.max(...[...withLate.values()].map((f) => f.length))).toBeGreaterThan(1);

    // Act
    const report = await compactOnce();

    // Assess
    expect(report.compacted.length).toBeGreaterThan(0);
    for (const files of byPartition(lakeFiles(dataDir)).values()) expect(files).toHaveLength(1);
    expectExactlyOnce(await ids(), [...first, ...late].flat());
  });

  it('splits an hour larger than the target into files in sort order and never rewrites the full ones', async () => {
    // Prepare: a target so small that every row group makes a file (DuckDB's row groups hold at least
    // 2,048 rows).
    const tiny = { targetFileBytes: 6_000, rowGroupRows: 2_048 };
    const events = batches('big', 3, 2_500, 5).map((b) => b.map((e) => ({ ...e, level: 'INFO' as const })));
    await deliverBatches(dataDir, events);

    // Act
    await compactOnce(tiny);
    const first = lakeFiles(dataDir);
    const late = batches('tail', 1, 3, 5).map((b) => b.map((e) => ({ ...e, level: 'INFO' as const })));
    await deliverBatches(dataDir, late);
    await compactOnce(tiny);

    // Assess: several outputs; read in name order they are one sorted sequence.
    expect(first.length).toBeGreaterThan(2);
    const keys = [];
    for (const f of first) keys.push(...(await sortKeys(join(dataDir, 'logs', f))));
    expect(sorted(keys)).toBe(true);
    // The full files survive the second pass untouched; only the small tail was merged with the late file.
    const second = lakeFiles(dataDir);
    const full = first.slice(0, -1);
    expect(second.filter((f) => full.includes(f))).toEqual(full);
    expectExactlyOnce(await ids(), [...events, ...late].flat());
  });

  it('hides the outputs of a compaction interrupted between two renames, and undoes it on the next start', async () => {
    // Prepare: an hour that compacts into several files.
    const tiny = { targetFileBytes: 6_000, rowGroupRows: 2_048 };
    const events = batches('r', 2, 2_500, 4).map((b) => b.map((e) => ({ ...e, level: 'INFO' as const })));
    await deliverBatches(dataDir, events);
    const sources = lakeFiles(dataDir);

    // Act: crash after the first output is in place.
    await expect(
      compactOnce(tiny, (s) => {
        if (s === 'output-renamed') throw new SimulatedCrash(s);
      }),
    ).rejects.toBeInstanceOf(SimulatedCrash);
    const mid = lakeFiles(dataDir);
    const idsMid = await ids();
    const report = await compactOnce(tiny);

    // Assess
    expect(mid.filter((f) => f.includes(COMPACTED_PREFIX))).toHaveLength(1);
    expectExactlyOnce(idsMid, events.flat());
    expect(report.rolledBack).toBe(1);
    expect(lakeFiles(dataDir).some((f) => sources.includes(f))).toBe(false);
    expectExactlyOnce(await ids(), events.flat());
  });

  it('keeps the replaced files, hidden from queries, until the grace period is over', async () => {
    // Prepare
    const events = batches('g', 6, 5, 3);
    await deliverBatches(dataDir, events);
    const sources = lakeFiles(dataDir);
    let now = Date.now();
    const clock = () => new Date(now);

    // Act: compact with a 10-minute grace period, then come back after it.
    await compactOnce({ graceMs: 600_000 }, undefined, clock);
    const during = lakeFiles(dataDir);
    const idsDuring = await ids();
    now += 601_000;
    const later = await compactOnce({ graceMs: 600_000 }, undefined, clock);

    // Assess
    expect(sources.every((f) => during.includes(f))).toBe(true);
    expectExactlyOnce(idsDuring, events.flat());
    expect(later.deletedFiles).toBe(sources.length);
    expect(lakeFiles(dataDir).some((f) => sources.includes(f))).toBe(false);
    expect(readdirSync(markerDir(dataDir)).filter((n) => n.endsWith('.json'))).toEqual([]);
    expectExactlyOnce(await ids(), events.flat());
  });

  it('undoes a compaction interrupted before its commit and finishes one interrupted after it', async () => {
    const events = batches('c', 6, 5, 3);
    await deliverBatches(dataDir, events);
    const crashAt = (step: CompactionStep) => (s: CompactionStep) => {
      if (s === step) throw new SimulatedCrash(s);
    };

    // Act 1: crash after the marker is written, before any output is in place.
    await expect(compactOnce({}, crashAt('marker-written'))).rejects.toBeInstanceOf(SimulatedCrash);
    const afterCrash = await ids();
    // Act 2: the next start rolls it back and compacts again; crash right after the commit this time.
    await expect(compactOnce({ graceMs: 600_000 }, crashAt('committed'))).rejects.toBeInstanceOf(
      SimulatedCrash,
    );
    const afterCommit = await ids();
    const files = lakeFiles(dataDir);
    // Act 3: the next start keeps the committed one (grace 0 now: its sources go).
    const report = await compactOnce();

    // Assess
    expectExactlyOnce(afterCrash, events.flat());
    expectExactlyOnce(afterCommit, events.flat());
    expect(files.some((f) => f.includes(COMPACTED_PREFIX))).toBe(true);
    expect(report.deletedFiles).toBeGreaterThan(0);
    for (const f of byPartition(lakeFiles(dataDir)).values()) expect(f).toHaveLength(1);
    expectExactlyOnce(await ids(), events.flat());
  });

  it('refuses to guess when a marker is damaged', async () => {
    await deliverBatches(dataDir, batches('m', 2, 3, 3));
    const dir = markerDir(dataDir);
    rmSync(dir, { recursive: true, force: true });
    await import('node:fs').then((fs) => fs.mkdirSync(dir, { recursive: true }));
    writeFileSync(join(dir, 'broken.json'), '{"version":1,');

    await expect(searchLake(dataDir)).rejects.toBeInstanceOf(CorruptMarkerError);
  });

  it('keeps every record exactly once whatever step a crash interrupts, and the next start finishes the job', async () => {
    const steps = COMPACTION_STEPS.length;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            hoursAgo: fc.integer({ min: 2, max: 3 }),
            size: fc.integer({ min: 1, max: 6 }),
            level: fc.constantFrom('INFO' as const, 'ERROR' as const),
          }),
          { minLength: 1, maxLength: 6 },
        ),
        fc.integer({ min: 1, max: 4 * steps }),
        fc.boolean(),
        fc.boolean(),
        async (spec, crashAfter, tiny, backfill) => {
          rmSync(dataDir, { recursive: true, force: true });
          const events = spec.map((b, i) =>
            Array.from({ length: b.size }, (_, j) => ({
              id: `p-${i}-${j}`,
              at: hourStart(b.hoursAgo) + (i * 13 + j) * 60_000,
              service: SERVICES[j % 3] as string,
              level: b.level,
            })),
          );
          if (tiny) {
            events.push(
              Array.from({ length: 5_000 }, (_, j) => ({
                id: `big-${j}`,
                at: hourStart(3) + j * 500,
                service: SERVICES[j % 3] as string,
                level: 'INFO' as const,
              })),
            );
          }
          await deliverBatches(dataDir, events);
          const over = tiny ? { targetFileBytes: 6_000, rowGroupRows: 2_048 } : {};
          let seen = 0;
          const crash = (s: CompactionStep) => {
            if (++seen === crashAfter) throw new SimulatedCrash(s);
          };

          // A pass that may crash at any step (or finish, if it has fewer steps than crashAfter).
          await compactOnce({ ...over, graceMs: 0 }, crash).catch((e: unknown) => {
            if (!(e instanceof SimulatedCrash)) throw e;
          });
          expectExactlyOnce(await ids(), events.flat());

          // Backfill into the same hours, then the next start recovers and compacts everything.
          const late = backfill
            ? [[{ id: 'late-0', at: hourStart(2) + 5_000, service: 'api', level: 'INFO' as const }]]
            : [];
          await deliverBatches(dataDir, late);
          await compactOnce({ ...over, graceMs: 0 });
          expectExactlyOnce(await ids(), [...events, ...late].flat());
          expect(
            existsSync(markerDir(dataDir))
              ? readdirSync(markerDir(dataDir)).filter((n) => n.endsWith('.json'))
              : [],
          ).toEqual([]);
          if (!tiny) for (const f of byPartition(lakeFiles(dataDir)).values()) expect(f).toHaveLength(1);
        },
      ),
      { numRuns: 15 },
    );
  }, 300_000);

  it('keeps every record exactly once whatever step a crash of an open-hour compaction interrupts, with an earlier one pending', async () => {
    const h = hourStart(2);
    const grace = 600_000;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 5 }),
        fc.integer({ min: 2, max: 5 }),
        // Act 2 runs within the first compaction's grace period, or after it (its deletions are steps too).
        fc.constantFrom(5, 11),
        fc.integer({ min: 1, max: 3 * COMPACTION_STEPS.length }),
        async (firstCount, secondCount, minutes, crashAfter) => {
          rmSync(dataDir, { recursive: true, force: true });
          const first = batches('o1', firstCount, 4, 2);
          const second = batches('o2', secondCount, 4, 2);
          const open = (onStep?: (step: CompactionStep) => void) =>
            Compactor.open({
              dataDir,
              settings: settings({ graceMs: grace, openMinFiles: 2 }),
              ...(onStep ? { onStep } : {}),
            });
          const at = (m: number) => () => new Date(h + m * 60_000);

          // Act 1: the open hour compacted once, undisturbed; more files arrive.
          await deliverBatches(dataDir, first);
          const c1 = await open();
          await c1.run({ now: at(20) }).finally(() => c1.close());
          await deliverBatches(dataDir, second);

          // Act 2: a pass that may crash at any step (or finish, with fewer steps than crashAfter).
          let seen = 0;
          const c2 = await open((s) => {
            if (++seen === crashAfter) throw new SimulatedCrash(s);
          });
          await c2
            .run({ now: at(20 + minutes) })
            .catch((e: unknown) => {
              if (!(e instanceof SimulatedCrash)) throw e;
            })
            .finally(() => c2.close());
          expectExactlyOnce(await ids(), [...first, ...second].flat());

          // Act 3: the next start undoes or keeps it and goes on; then the hour closes.
          const c3 = await open();
          try {
            c3.tidy(at(21 + minutes)());
            await c3.run({ now: at(21 + minutes) });
            expectExactlyOnce(await ids(), [...first, ...second].flat());
            const closed = 60 + c3.settings.closedAfterMs / 60_000 + (2 * grace) / 60_000;
            await c3.run({ now: at(closed) });
            c3.tidy(at(closed + grace / 60_000)());
          } finally {
            c3.close();
          }

          // Assess
          expectExactlyOnce(await ids(), [...first, ...second].flat());
          expect(readdirSync(markerDir(dataDir)).filter((n) => n.endsWith('.json'))).toEqual([]);
          for (const f of byPartition(lakeFiles(dataDir)).values()) expect(f).toHaveLength(1);
        },
      ),
      { numRuns: 12 },
    );
  }, 300_000);
});

describe('LocalPipeline compaction', () => {
  it('compacts the current hour while deliveries into it go on: every reader sees each record at most once, and all of them in the end', async () => {
    // Prepare: the pipeline's own compaction (real clock, 10-minute grace period, so earlier passes'
    // markers stay pending), traffic into the current hour.
    const pipeline = await LocalPipeline.open({
      dataDir,
      transform: dataDirTransform(DEFAULT_CONFIG, dataDir),
      flushIntervalMs: 30,
      compaction: { graceMs: 600_000, openMinFiles: 2, intervalMs: 2 ** 31 - 1 },
    });
    const sent: LakeEvent[] = [];
    const reads: Map<string, number>[] = [];
    const passes: CompactionReport[] = [];
    try {
      let seq = 0;
      let sending = true;
      // Deliveries go on until at least two passes compacted something while they did (however slow
      // the machine), so no assertion below depends on timing.
      const compactingPasses = () => passes.filter((p) => p.compacted.length > 0).length;
      const traffic = (async () => {
        for (let r = 0; r < 60 || (compactingPasses() < 2 && r < 2_000); r++) {
          const batch = Array.from({ length: 6 }, (_, i) => ({
            id: `open-${seq++}`,
            at: Math.max(hourStart(0), Date.now() - 1_000),
            service: SERVICES[i % 3] as string,
            level: 'INFO' as const,
          }));
          sent.push(...batch);
          await pipeline.put('logs', asRecords(batch));
          await new Promise((r) => setTimeout(r, 15));
        }
        sending = false;
      })();

      // Act: passes and reads while the deliveries go on.
      while (sending) {
        passes.push(await pipeline.compactNow());
        reads.push(await ids());
      }
      await traffic;
      await pipeline.flush();
      passes.push(await pipeline.compactNow());
    } finally {
      await pipeline.close();
    }

    // Assess
    expect(passes.flatMap((p) => p.failed)).toEqual([]);
    expect(passes.filter((p) => p.compacted.length > 0).length).toBeGreaterThan(1);
    for (const read of reads) expect([...read.values()].filter((n) => n !== 1)).toEqual([]);
    expectExactlyOnce(await ids(), sent);
    // Every compaction of the hour took files no other pending one names.
    const markers = listPartitions(dataDir).flatMap((p) => p.markers);
    const names = markers.flatMap((m) => [...m.sources, ...m.outputs]);
    expect(markers.length).toBeGreaterThan(1);
    expect(new Set(names).size).toBe(names.length);
  }, 120_000);

  it('compacts closed hours while deliveries keep arriving, without taking a half-delivered file', async () => {
    // Prepare: a pipeline with compaction on; closed hours to compact; traffic into those hours.
    const reports: number[] = [];
    const pipeline = await LocalPipeline.open({
      dataDir,
      transform: dataDirTransform(DEFAULT_CONFIG, dataDir),
      flushIntervalMs: 50,
      compaction: {
        graceMs: 0,
        closedAfterMs: 0,
        intervalMs: 60_000,
        onReport: (r) => reports.push(r.compacted.length),
      },
    });
    const sent: LakeEvent[] = [];
    try {
      let seq = 0;
      const send = async (rounds: number) => {
        for (let r = 0; r < rounds; r++) {
          const batch = Array.from({ length: 10 }, (_, i) => ({
            id: `live-${seq++}`,
            at: hourStart(2 + (i % 2)) + seq * 1000,
            service: SERVICES[i % 3] as string,
            level: 'INFO' as const,
          }));
          sent.push(...batch);
          await pipeline.put('logs', asRecords(batch));
          await new Promise((r) => setTimeout(r, 20));
        }
      };

      // Act: passes run while deliveries of the same hours go on.
      const traffic = send(40);
      const passes = [];
      for (let i = 0; i < 4; i++) {
        await new Promise((r) => setTimeout(r, 150));
        passes.push(await pipeline.compactNow());
      }
      await traffic;
      await pipeline.flush();
      passes.push(await pipeline.compactNow());

      // Assess
      expect(passes.some((p) => p.compacted.length > 0)).toBe(true);
      expect(passes.flatMap((p) => p.failed)).toEqual([]);
      expect(reports.length).toBeGreaterThan(0);
    } finally {
      await pipeline.close();
    }
    expectExactlyOnce(await ids(), sent);
    for (const f of byPartition(lakeFiles(dataDir)).values()) expect(f).toHaveLength(1);
  }, 120_000);
});

/** Events as the pipeline's records: one JSON line each, its id as message and correlation id. */
function asRecords(
  batch: ReadonlyArray<{ id: string; at: number; service: string; level: string }>,
): Array<{ data: string; bytes: number }> {
  return batch.map((e) => {
    const line = `${JSON.stringify({ timestamp: new Date(e.at).toISOString(), level: e.level, service: e.service, message: e.id, correlation_id: e.id })}\n`;
    return { data: Buffer.from(line).toString('base64'), bytes: line.length };
  });
}
