/**
 * Verifying the local lake against its integrity log (`integrity.ts`): the chain itself (hashes,
 * sequence, links, an optional anchor from an earlier report), then the objects: replay the log into the
 * set of objects the lake should hold, hash every object it does hold, and compare.
 *
 * What counts as tampering, and what does not:
 * - `changed`: an object's content differs from its recorded hash;
 * - `missing`: a recorded object is gone before its expiry;
 * - `unrecorded`: an object in the lake the pipeline never recorded (written around it);
 * - `changed-before-compaction` / `changed-before-expiry`: the hash a compaction or an expiry found
 *   differs from the recorded one (the object was altered, then replaced or removed);
 * - `log-altered`: an entry's hash, sequence or link does not hold; `anchor-mismatch`: the chain no
 *   longer extends the head an earlier report printed.
 * Not tampering: objects a compaction replaced (recorded with the files that replace them and their row
 * counts) and objects removed by `loglake cleanup` (recorded before deletion). Reported without being a
 * violation: objects deleted after their expiry without a record (`expired-unrecorded`), expired objects
 * still present after an interrupted cleanup (`expired-present`).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  entryHash,
  GENESIS_HASH,
  hashFile,
  type IntegrityEntry,
  type IntegrityObject,
  integrityPaths,
  lakeObjectKeys,
  readIntegrityLog,
} from './integrity';

/** The finding kinds of {@link TAMPERING}; the others are notices. */
const TAMPERING_KINDS = [
  'changed',
  'missing',
  'unrecorded',
  'changed-before-compaction',
  'changed-before-expiry',
  'log-altered',
  'anchor-mismatch',
  'no-log',
] as const;

export const INTEGRITY_FINDING_KINDS = [...TAMPERING_KINDS, 'expired-unrecorded', 'expired-present'] as const;
export type IntegrityFindingKind = (typeof INTEGRITY_FINDING_KINDS)[number];

/** Kinds that mean the lake or its log was tampered with (a policy violation). */
export const TAMPERING: ReadonlySet<IntegrityFindingKind> = new Set(TAMPERING_KINDS);

export interface IntegrityFinding {
  readonly kind: IntegrityFindingKind;
  /** Object key (relative to the data directory), or the log file for log findings. */
  readonly key: string;
  readonly detail: string;
  readonly expectedSha256?: string;
  readonly actualSha256?: string;
  /** Sequence number of the entry that recorded the object (or where the log broke). */
  readonly seq?: number;
}

/** A point of the chain printed by a report, to be checked by a later one. */
export interface ChainAnchor {
  readonly seq: number;
  readonly hash: string;
}

/** `<seq>:<hash>`: how a report prints the chain's head, and how `compliance-report --anchor` takes it. */
export function formatChainAnchor(anchor: ChainAnchor): string {
  return `${anchor.seq}:${anchor.hash}`;
}

const ANCHOR_TEXT = /^(\d{1,15}):([0-9a-f]{64})$/;

/** The anchor written as {@link formatChainAnchor} writes it (surrounding blanks ignored), or undefined. */
export function parseChainAnchor(text: string): ChainAnchor | undefined {
  const m = ANCHOR_TEXT.exec(text.trim().toLowerCase());
  return m?.[1] && m[2] ? { seq: Number(m[1]), hash: m[2] } : undefined;
}

export interface ChainCheck {
  readonly entries: number;
  /** The last entry: the anchor a later report can check. */
  readonly head?: ChainAnchor & { readonly at: string };
  readonly intact: boolean;
  readonly problems: readonly IntegrityFinding[];
}

/**
 * Check the chain: every line an entry, sequence numbers consecutive from 0, each `prev` the previous
 * `hash`, each `hash` recomputed; and, if given, the anchor still in place.
 */
export function checkChain(
  lines: ReturnType<typeof readIntegrityLog>,
  logFile: string,
  anchor?: ChainAnchor,
): ChainCheck {
  const problems: IntegrityFinding[] = [];
  let prev = GENESIS_HASH;
  let last: IntegrityEntry | undefined;
  lines.forEach(({ line, entry, text }, i) => {
    const where = `${logFile} line ${line}`;
    if (!entry || typeof entry !== 'object') {
      problems.push({
        kind: 'log-altered',
        key: logFile,
        detail: `${where} is not an entry (${text.slice(0, 40)}…)`,
      });
      prev = '';
      return;
    }
    const { hash, ...rest } = entry;
    if (entry.seq !== i) {
      problems.push({
        kind: 'log-altered',
        key: logFile,
        seq: entry.seq,
        detail: `${where}: sequence ${entry.seq} where ${i} was expected (entries removed, added or reordered)`,
      });
    }
    if (entry.prev !== prev) {
      problems.push({
        kind: 'log-altered',
        key: logFile,
        seq: entry.seq,
        detail: `${where}: does not link to the entry before it`,
      });
    }
    if (entryHash(rest) !== hash) {
      problems.push({
        kind: 'log-altered',
        key: logFile,
        seq: entry.seq,
        detail: `${where}: its content does not match its hash (the entry was edited)`,
      });
    }
    prev = hash;
    last = entry;
  });
  if (anchor) {
    const found = lines[anchor.seq];
    const at = found?.entry;
    if (!found || !at || at.hash !== anchor.hash) {
      // Where the log first breaks at or before the anchor, when it does (an edited or removed entry);
      // a chain rewritten consistently breaks nowhere, and only the anchor tells.
      const firstBreak = problems.find((p) => p.kind === 'log-altered' && (p.seq ?? 0) <= anchor.seq);
      const rewritten = firstBreak
        ? `; the log first breaks before it: ${firstBreak.detail}`
        : '; the entries up to it were rewritten consistently (the chain verifies on its own)';
      problems.push({
        kind: 'anchor-mismatch',
        key: logFile,
        seq: anchor.seq,
        detail: !found
          ? `the anchor ${formatChainAnchor(anchor)} names entry ${anchor.seq}, and the log has ${lines.length} entr(ies): entries were removed or the log was replaced`
          : !at
            ? `the anchor names entry ${anchor.seq}, and line ${found.line} is not an entry any more: the log was rewritten${rewritten}`
            : `entry ${anchor.seq} (${at.type} of ${at.at}) has hash ${at.hash}, the anchor ${anchor.hash}: the log was rewritten at or before entry ${anchor.seq}${rewritten}`,
      });
    }
  }
  return {
    entries: lines.length,
    ...(last ? { head: { seq: last.seq, hash: last.hash, at: last.at } } : {}),
    intact: problems.length === 0,
    problems,
  };
}

/** What the log says the lake holds, and what it says left it. */
interface Expected {
  readonly object: IntegrityObject;
  readonly seq: number;
  readonly at: string;
  readonly batch?: string;
}

/** An object recorded in the period, for the report's manifest. */
export interface ManifestEntry extends IntegrityObject {
  /** `delivery`, `compaction` (a file a compaction wrote) or `baseline`. */
  readonly recordedBy: 'delivery' | 'compaction' | 'baseline';
  readonly seq: number;
  readonly at: string;
}

export interface LocalIntegrityResult {
  readonly chain: ChainCheck;
  /** Objects the replayed log says the lake holds. */
  readonly recordedObjects: number;
  /** Objects found in the lake. */
  readonly presentObjects: number;
  readonly compactions: ReadonlyArray<{
    readonly run: string;
    readonly partition: string;
    readonly replaced: number;
    readonly outputs: number;
    readonly rows: number;
    readonly at: string;
  }>;
  readonly expired: number;
  readonly findings: readonly IntegrityFinding[];
  /** Objects recorded in `[since, until)`. */
  readonly manifest: readonly ManifestEntry[];
}

export interface VerifyOptions {
  readonly since: Date;
  readonly until: Date;
  readonly now: Date;
  /** Expiry of an object (epoch ms) under the policy in force; undefined = never. */
  readonly expiresAt: (key: string) => number | undefined;
  readonly anchor?: ChainAnchor;
}

/** Verify the local lake under `dataDir` against its integrity log. */
export function verifyLocalIntegrity(dataDir: string, options: VerifyOptions): LocalIntegrityResult {
  const logFile = integrityPaths(dataDir).chain;
  const relLog = '.loglake/integrity/chain.jsonl';
  const lines = readIntegrityLog(dataDir);
  const chain = checkChain(lines, relLog, options.anchor);
  const findings: IntegrityFinding[] = [...chain.problems];
  const present = lakeObjectKeys(dataDir);
  if (!existsSync(logFile) || lines.length === 0) {
    if (present.length > 0) {
      findings.push({
        kind: 'no-log',
        key: relLog,
        detail: `the lake holds ${present.length} object(s) but has no integrity log: nothing can be verified (the pipeline starts the log when it opens the data directory)`,
      });
    }
    return {
      chain,
      recordedObjects: 0,
      presentObjects: present.length,
      compactions: [],
      expired: 0,
      findings,
      manifest: [],
    };
  }

  const expected = new Map<string, Expected>();
  const batches = new Map<string, string[]>();
  const replaced = new Map<string, string>();
  const expired = new Set<string>();
  const compactions: Array<LocalIntegrityResult['compactions'][number]> = [];
  const manifest: ManifestEntry[] = [];
  const since = options.since.getTime();
  const until = options.until.getTime();
  const inPeriod = (at: string) => {
    const t = Date.parse(at);
    return t >= since && t < until;
  };
  const record = (o: IntegrityObject, e: IntegrityEntry, by: ManifestEntry['recordedBy'], batch?: string) => {
    expected.set(o.key, { object: o, seq: e.seq, at: e.at, ...(batch ? { batch } : {}) });
    replaced.delete(o.key);
    expired.delete(o.key);
    if (inPeriod(e.at)) manifest.push({ ...o, recordedBy: by, seq: e.seq, at: e.at });
  };
  for (const { entry } of lines) {
    if (!entry) continue;
    switch (entry.type) {
      case 'baseline':
        for (const o of entry.objects ?? []) record(o, entry, 'baseline');
        break;
      case 'delivery': {
        // A redelivery of the same batch (after a crash) replaces what the earlier attempt recorded.
        for (const key of batches.get(entry.batch) ?? []) {
          if (expected.get(key)?.batch === entry.batch) expected.delete(key);
        }
        batches.set(
          entry.batch,
          entry.objects.map((o) => o.key),
        );
        for (const o of entry.objects) record(o, entry, 'delivery', entry.batch);
        break;
      }
      case 'compaction': {
        for (const r of entry.replaced) {
          const cur = expected.get(r.key);
          if (!cur) {
            findings.push({
              kind: 'unrecorded',
              key: r.key,
              seq: entry.seq,
              actualSha256: r.sha256,
              detail: `compaction ${entry.run} replaced an object the log never recorded`,
            });
          } else if (cur.object.sha256 !== r.sha256) {
            findings.push({
              kind: 'changed-before-compaction',
              key: r.key,
              seq: cur.seq,
              expectedSha256: cur.object.sha256,
              actualSha256: r.sha256,
              detail: `recorded in entry ${cur.seq}; compaction ${entry.run} (entry ${entry.seq}) found different content`,
            });
          }
          expected.delete(r.key);
          replaced.set(r.key, r.sha256);
        }
        for (const o of entry.outputs) record(o, entry, 'compaction');
        compactions.push({
          run: entry.run,
          partition: entry.partition,
          replaced: entry.replaced.length,
          outputs: entry.outputs.length,
          rows: entry.rows,
          at: entry.at,
        });
        break;
      }
      case 'expiry':
        for (const o of entry.objects) {
          const cur = expected.get(o.key);
          if (cur && cur.object.sha256 !== o.sha256) {
            findings.push({
              kind: 'changed-before-expiry',
              key: o.key,
              seq: cur.seq,
              expectedSha256: cur.object.sha256,
              actualSha256: o.sha256,
              detail: `recorded in entry ${cur.seq}; expired in entry ${entry.seq} with different content`,
            });
          }
          expected.delete(o.key);
          expired.add(o.key);
        }
        break;
      default:
        findings.push({
          kind: 'log-altered',
          key: relLog,
          seq: (entry as IntegrityEntry).seq,
          detail: `entry of unknown type ${JSON.stringify((entry as { type?: unknown }).type)}`,
        });
    }
  }

  const onDisk = new Set(present);
  for (const key of present) {
    const want = expected.get(key);
    const pendingDelete = replaced.get(key);
    if (!want && pendingDelete === undefined && !expired.has(key)) {
      findings.push({
        kind: 'unrecorded',
        key,
        actualSha256: hashFile(join(dataDir, key)).sha256,
        detail: 'in the lake but never recorded: written around the pipeline',
      });
      continue;
    }
    const actual = hashFile(join(dataDir, key)).sha256;
    if (want && actual !== want.object.sha256) {
      findings.push({
        kind: 'changed',
        key,
        seq: want.seq,
        expectedSha256: want.object.sha256,
        actualSha256: actual,
        detail: `content differs from the hash recorded in entry ${want.seq} (${want.at})`,
      });
    } else if (!want && pendingDelete !== undefined && actual !== pendingDelete) {
      findings.push({
        kind: 'changed',
        key,
        expectedSha256: pendingDelete,
        actualSha256: actual,
        detail: 'replaced by a compaction and awaiting deletion, but changed since',
      });
    } else if (!want && expired.has(key)) {
      findings.push({
        kind: 'expired-present',
        key,
        detail: 'recorded as expired but still present (an interrupted cleanup; the next one removes it)',
      });
    }
  }
  for (const [key, want] of expected) {
    if (onDisk.has(key)) continue;
    const expiry = options.expiresAt(key);
    if (expiry !== undefined && expiry <= options.now.getTime()) {
      findings.push({
        kind: 'expired-unrecorded',
        key,
        seq: want.seq,
        detail: `deleted after its expiry (${new Date(expiry).toISOString()}) without a record (not by loglake cleanup)`,
      });
    } else {
      findings.push({
        kind: 'missing',
        key,
        seq: want.seq,
        expectedSha256: want.object.sha256,
        detail: `recorded in entry ${want.seq} (${want.at}), gone before its expiry${
          expiry !== undefined ? ` (${new Date(expiry).toISOString()})` : ''
        }`,
      });
    }
  }
  return {
    chain,
    recordedObjects: expected.size,
    presentObjects: present.length,
    compactions,
    expired: expired.size,
    findings,
    manifest,
  };
}
