import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  COMPACTED_PREFIX,
  chooseOpenSources,
  chooseSources,
  type PartitionFile,
} from '../../src/compaction/plan';

const TARGET = 1_000;

/** A partition's files: delivered (spool-segment names) and compacted ones, unique names. */
const partitionFiles = fc
  .uniqueArray(
    fc.record({
      compacted: fc.boolean(),
      id: fc.integer({ min: 0, max: 60 }),
      bytes: fc.integer({ min: 1, max: 2 * TARGET }),
    }),
    { selector: (f) => `${f.compacted}-${f.id}`, maxLength: 30 },
  )
  .map((fs) =>
    fs.map(
      (f): PartitionFile => ({
        name: f.compacted
          ? `${COMPACTED_PREFIX}0mx5a${String(f.id).padStart(3, '0')}-000.parquet`
          : `0mx5a${String(f.id).padStart(4, '0')}-ab.parquet`,
        bytes: f.bytes,
      }),
    ),
  );

/** Files with a subset of them named by pending markers. */
const withPending = partitionFiles.chain((files) =>
  fc.subarray(files.map((f) => f.name)).map((pending) => ({ files, pending: new Set(pending) })),
);

const isDelivered = (f: PartitionFile) => !f.name.startsWith(COMPACTED_PREFIX);

describe('chooseOpenSources', () => {
  it('never takes a file a pending compaction names, and waits for minDelivered free delivered files', () => {
    fc.assert(
      fc.property(withPending, fc.integer({ min: 0, max: 12 }), ({ files, pending }, minDelivered) => {
        // Act
        const chosen = chooseOpenSources(files, pending, TARGET, minDelivered);

        // Assess
        const free = files.filter((f) => !pending.has(f.name));
        const freeDelivered = free.filter(isDelivered);
        expect(chosen.filter((f) => pending.has(f.name))).toEqual([]);
        expect(chosen.every((f) => files.includes(f))).toBe(true);
        if (freeDelivered.length === 0 || freeDelivered.length < minDelivered) {
          expect(chosen).toEqual([]);
          return;
        }
        // Then it is the closed-hour rule over the free files: every free delivered file, the free
        // compacted ones under the target, nothing else, sorted by name.
        expect(chosen).toEqual(chooseSources(free, TARGET));
        expect(chosen.filter(isDelivered)).toHaveLength(freeDelivered.length);
        expect(chosen.filter((f) => !isDelivered(f) && f.bytes >= TARGET)).toEqual([]);
        const names = chosen.map((f) => f.name);
        expect(names).toEqual([...names].sort());
      }),
      { numRuns: 500 },
    );
  });

  it('is the closed-hour rule when no marker is pending and enough files were delivered', () => {
    fc.assert(
      fc.property(partitionFiles, (files) => {
        fc.pre(files.some(isDelivered));
        expect(chooseOpenSources(files, new Set(), TARGET, 1)).toEqual(chooseSources(files, TARGET));
      }),
    );
  });
});
