/**
 * Property: whatever the sequence of appends (alone or group-committed), disk failures at any byte of a
 * write, failed fdatasyncs, truncations and renames, and crashes at any point, the spool recovers every
 * acknowledged record exactly once and in order, never a rejected one, and at most once one whose
 * outcome was unknown (in flight at a crash, or reported indeterminate). Bit rot costs the records of the
 * damaged frame and nothing else.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { recoverSegments, SegmentWriter, SpoolWriteError } from '../../src/local/spool';
import { FaultySpoolIo, type SpoolFault } from '../helpers/faulty-spool';

type Command =
  | { readonly kind: 'burst'; readonly requests: readonly number[]; readonly faults: readonly SpoolFault[] }
  | { readonly kind: 'crash' }
  | { readonly kind: 'seal' }
  /** Bit rot: one bit flipped somewhere in one segment file. */
  | { readonly kind: 'rot'; readonly file: number; readonly at: number; readonly bit: number };

const fault: fc.Arbitrary<SpoolFault> = fc.oneof(
  fc.record({
    op: fc.constant('append' as const),
    prefix: fc.nat({ max: 400 }),
    crash: fc.boolean(),
    skip: fc.nat({ max: 2 }),
  }),
  fc.record({
    op: fc.constantFrom('datasync' as const, 'truncate' as const, 'rename' as const, 'create' as const),
    crash: fc.boolean(),
    skip: fc.nat({ max: 2 }),
  }),
);

const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('burst' as const),
      // Several requests issued at once: the first commits alone, the rest as one group commit.
      requests: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 }),
      faults: fc.array(fault, { maxLength: 3 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'crash' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'seal' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('rot' as const),
      file: fc.nat(),
      at: fc.nat(),
      bit: fc.integer({ min: 0, max: 7 }),
    }),
  },
);

type Outcome = 'acknowledged' | 'rejected' | 'unknown';

describe('spool under faults (property)', () => {
  it('recovers acknowledged records exactly once and in order, and never a rejected one', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 25 }), async (commands) => {
        const dir = mkdtempSync(join(tmpdir(), 'loglake-spool-prop-'));
        try {
          // Prepare
          const outcome = new Map<string, Outcome>();
          /** Acknowledged record ids in acknowledgement order, per segment. */
          const acknowledgedIds = new Map<string, string[]>();
          const dataOf = new Map<string, string>();
          /** Acknowledged ids whose frame bit rot destroyed on disk. */
          const damaged = new Set<string>();
          let io = new FaultySpoolIo();
          let writer = new SegmentWriter(dir, io);
          let seq = 0;

          const check = () => {
            const recovered = recoverSegments(dir);
            const seen = new Set<string>();
            for (const segment of recovered) {
              const tokens = segment.records.map((r) => Buffer.from(r.data, 'base64').toString());
              for (const t of tokens) {
                expect(outcome.get(t), `record ${t}`).toMatch(/acknowledged|unknown/);
                expect(seen.has(t), `record ${t} recovered twice`).toBe(false);
                seen.add(t);
              }
              // Acknowledged records come back with the ids they were acknowledged with, in order.
              const ids = segment.records.filter((_, i) => outcome.get(tokens[i] ?? '') === 'acknowledged');
              expect(ids.map((r) => r.id)).toEqual(
                (acknowledgedIds.get(segment.id) ?? []).filter((id) => !damaged.has(id)),
              );
              for (const r of ids) expect(r.data).toBe(dataOf.get(r.id));
            }
            for (const [t, o] of outcome)
              if (o === 'acknowledged') expect(seen.has(t), `lost ${t}`).toBe(true);
          };

          /** Seal: the delivery batch holds exactly the acknowledged records; go on in a new segment. */
          const sealAndCheck = async () => {
            const sealed = await writer.seal();
            expect(sealed.records.map((r) => r.id)).toEqual(acknowledgedIds.get(writer.id) ?? []);
            check();
            io = new FaultySpoolIo();
            writer = new SegmentWriter(dir, io);
          };
          /** The process died: recover from disk alone, then a new process goes on. */
          const restart = () => {
            check();
            io = new FaultySpoolIo();
            writer = new SegmentWriter(dir, io);
          };

          // Act + Assess, command by command
          for (const c of commands) {
            if (c.kind === 'burst') {
              // What the pipeline does with a segment whose failed write could not be undone.
              if (!writer.writable) await sealAndCheck();
              io.fail(...c.faults);
              const target = writer;
              const calls = c.requests.map((n) => {
                const tokens = Array.from({ length: n }, () => `r${seq++}`);
                const items = tokens.map((t) => ({
                  data: Buffer.from(t).toString('base64'),
                  bytes: t.length,
                }));
                return target.append(items, seq).then(
                  (ids) => ({ tokens, ids, items, error: undefined }),
                  (error: unknown) => ({ tokens, ids: [] as string[], items, error }),
                );
              });
              for (const r of await Promise.all(calls)) {
                if (r.error === undefined) {
                  for (const [i, t] of r.tokens.entries()) {
                    outcome.set(t, 'acknowledged');
                    const id = r.ids[i] as string;
                    dataOf.set(id, r.items[i]?.data as string);
                    const list = acknowledgedIds.get(target.id) ?? [];
                    list.push(id);
                    acknowledgedIds.set(target.id, list);
                  }
                } else {
                  expect(r.error).toBeInstanceOf(SpoolWriteError);
                  // A request in flight when the process died, or one the spool could not undo, may
                  // be stored or not; one answered with a plain error must never be.
                  const unknown = io.crashed || (r.error as SpoolWriteError).indeterminate;
                  for (const t of r.tokens) outcome.set(t, unknown ? 'unknown' : 'rejected');
                }
              }
              if (io.crashed) restart();
            } else if (c.kind === 'rot') {
              const files = readdirSync(dir).sort();
              const name = files[c.file % Math.max(1, files.length)];
              if (name === undefined) continue;
              const bytes = readFileSync(join(dir, name));
              if (bytes.length === 0) continue;
              const at = c.at % bytes.length;
              // The records of the frame hit are lost to the damage; every other one must survive it.
              const start = at === 0 ? 0 : bytes.lastIndexOf(0x0a, at - 1) + 1;
              const end = bytes.indexOf(0x0a, at);
              const line = bytes.subarray(start, end < 0 ? undefined : end).toString();
              for (const [, list] of line.matchAll(/"d":\[([^\]]*)\]/g)) {
                for (const item of (list ?? '').split(',')) {
                  const token = Buffer.from(item.replaceAll('"', ''), 'base64').toString();
                  if (outcome.get(token) !== 'acknowledged') continue;
                  outcome.set(token, 'unknown');
                  for (const [id, data] of dataOf)
                    if (Buffer.from(data, 'base64').toString() === token) damaged.add(id);
                }
              }
              bytes[at] = (bytes[at] as number) ^ (1 << c.bit);
              writeFileSync(join(dir, name), bytes);
              check();
            } else if (c.kind === 'crash') {
              io.crashed = true;
              restart();
            } else {
              await sealAndCheck();
            }
          }
          check();
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }),
      { numRuns: 150 },
    );
  }, 120_000);
});
