/**
 * `loglake compliance-report --anchor`: the integrity log's head printed by one report, kept outside the
 * lake, checked by the next. Over a copy of the known lake (written by the real pipeline) per test: the
 * anchor in place passes; a log rewritten or cut before it is a finding naming the entry (exit 3), also
 * when the rewrite is consistent and the chain verifies on its own; a malformed anchor is a usage error.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entryHash, type IntegrityEntry, integrityPaths } from '../../src/compliance/integrity';
import type { ComplianceReport } from '../../src/compliance/report';
import { loglake } from '../helpers/cli';
import { type KnownLake, writeKnownLake } from '../helpers/known-lake';

let lake: KnownLake;
const copies: string[] = [];
beforeAll(async () => {
  lake = await writeKnownLake();
});
afterAll(() => {
  for (const dir of copies) rmSync(dir, { recursive: true, force: true });
  lake?.dispose();
});

/** A copy of a data directory (the known lake's by default), for a test to tamper with. */
function copyLake(from = lake.dataDir): string {
  const dir = mkdtempSync(join(tmpdir(), 'loglake-anchor-'));
  copies.push(dir);
  cpSync(from, dir, { recursive: true });
  return dir;
}

const report = (dataDir: string, ...extra: string[]) =>
  loglake([
    'compliance-report',
    '--data-dir',
    dataDir,
    '--config',
    lake.configFile,
    '--since',
    '30d',
    '--format',
    'json',
    ...extra,
  ]);

function integrity(stdout: string) {
  const rep = JSON.parse(stdout) as ComplianceReport;
  const item = rep.items.find((i) => i.id === 'integrity');
  if (!item) throw new Error('no integrity item');
  return { rep, item };
}

/** The report's anchor: the head it printed. */
async function anchorOf(dataDir: string): Promise<string> {
  const r = await report(dataDir);
  expect(r.code, r.stderr).toBe(0);
  const { rep } = integrity(r.stdout);
  expect(rep.anchor).toMatch(/^\d+:[0-9a-f]{64}$/);
  return rep.anchor as string;
}

type Line = Record<string, unknown> & { seq: number; prev: string; hash: string };
const readChain = (dataDir: string) =>
  readFileSync(integrityPaths(dataDir).chain, 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Line);
const writeChain = (dataDir: string, entries: readonly Line[]) =>
  writeFileSync(integrityPaths(dataDir).chain, `${entries.map((e) => JSON.stringify(e)).join('\n')}\n`);

/** Every entry from `from` on re-linked and re-hashed: a rewrite the chain alone cannot tell. */
function rehash(entries: readonly Line[], from: number): Line[] {
  const out = entries.slice(0, from);
  for (const e of entries.slice(from)) {
    const { hash: _old, ...rest } = e;
    const body = { ...rest, prev: out.at(-1)?.hash ?? e.prev };
    out.push({ ...body, hash: entryHash(body as unknown as Omit<IntegrityEntry, 'hash'>) } as Line);
  }
  return out;
}

describe('compliance-report --anchor', () => {
  it('passes with the head an earlier report printed, given as itself, a file or that JSON report', async () => {
    // Arrange
    const dataDir = copyLake();
    const first = await report(dataDir);
    expect(first.code, first.stderr).toBe(0);
    const anchor = integrity(first.stdout).rep.anchor as string;
    const jsonFile = join(dataDir, '..', `${dataDir.split('/').at(-1)}-report.json`);
    const textFile = join(dataDir, '..', `${dataDir.split('/').at(-1)}-anchor.txt`);
    copies.push(jsonFile, textFile);
    writeFileSync(jsonFile, first.stdout);
    writeFileSync(textFile, `${anchor}\n`);

    // Act
    const runs = [await report(dataDir, '--anchor', anchor)];
    runs.push(await report(dataDir, '--anchor', textFile));
    runs.push(await report(dataDir, '--anchor', jsonFile));

    // Assert
    expect(first.stderr).toContain(`integrity log head ${anchor}: keep it outside the lake`);
    for (const r of runs) {
      expect(r.code, r.stderr).toBe(0);
      const { rep, item } = integrity(r.stdout);
      expect(item.status).toBe('ok');
      expect(item.summary).toContain(
        `anchor ${anchor} (an earlier report's head): in place, the log still extends it`,
      );
      // The reports' own reads were appended since: the next anchor is further on.
      const [seq] = (rep.anchor as string).split(':');
      expect(Number(seq)).toBeGreaterThan(Number(anchor.split(':')[0]));
      expect(item.summary).toContain(
        `next anchor: ${rep.anchor} (keep it outside the lake; pass it as --anchor to the next report)`,
      );
    }
  });

  it('finds a log rewritten before the anchor, though the rewritten chain verifies on its own', async () => {
    // Arrange: entry 1 (a delivery) says it came from elsewhere; every entry after it re-hashed
    const dataDir = copyLake();
    const anchor = await anchorOf(dataDir);
    const [seq] = anchor.split(':');
    const entries = readChain(dataDir);
    const edited = entries.map((e, i) => (i === 1 ? { ...e, source: 'somewhere else' } : e));
    writeChain(dataDir, rehash(edited, 1));

    // Act
    const without = await report(dataDir);
    const withAnchor = await report(dataDir, '--anchor', anchor);

    // Assert
    expect(without.code, without.stderr).toBe(0);
    expect(withAnchor.code).toBe(3);
    const { rep, item } = integrity(withAnchor.stdout);
    expect(item.status).toBe('violation');
    const now = readChain(dataDir)[Number(seq)];
    expect(rep.findings).toEqual([
      {
        item: 'integrity',
        message: `FINDING: anchor-mismatch .loglake/integrity/chain.jsonl: entry ${seq} (${now?.type} of ${now?.at}) has hash ${now?.hash}, the anchor ${anchor.split(':')[1]}: the log was rewritten at or before entry ${seq}; the entries up to it were rewritten consistently (the chain verifies on its own)`,
      },
    ]);
    expect(item.summary).toContain(
      `anchor ${anchor} (an earlier report's head): NOT in place, see the finding below`,
    );
  });

  it('finds entries removed before the anchor, and a log cut short of it', async () => {
    // Arrange
    const removed = copyLake();
    const anchor = await anchorOf(removed);
    const cut = copyLake(removed);
    const entries = readChain(removed);
    writeChain(removed, [...entries.slice(0, 1), ...entries.slice(2)]);
    writeChain(cut, entries.slice(0, 2));

    // Act
    const afterRemoval = await report(removed, '--anchor', anchor);
    const afterCut = await report(cut, '--anchor', anchor);

    // Assert
    expect(afterRemoval.code).toBe(3);
    const mismatch = (stdout: string) =>
      integrity(stdout).rep.findings.find((f) => f.message.startsWith('FINDING: anchor-mismatch'))?.message;
    expect(mismatch(afterRemoval.stdout)).toContain(
      'the log first breaks before it: .loglake/integrity/chain.jsonl line 2: sequence 2 where 1 was expected (entries removed, added or reordered)',
    );
    expect(afterCut.code).toBe(3);
    // The report's own reads are appended to the cut log before the check: 2 entries and those (one
    // delivery per read of one page, two for a read of several: its started event and its end).
    expect(mismatch(afterCut.stdout)).toMatch(
      new RegExp(
        `^FINDING: anchor-mismatch \\.loglake/integrity/chain\\.jsonl: the anchor ${anchor} names entry ${anchor.split(':')[0]}, and the log has [2-5] entr\\(ies\\): entries were removed or the log was replaced$`,
      ),
    );
  });

  it('refuses a malformed anchor, naming what it received', async () => {
    // Arrange
    const junk = join(lake.root, 'junk.txt');
    writeFileSync(junk, 'head seq 5 hash 2d1b\n');

    // Act
    const word = await report(lake.dataDir, '--anchor', 'yesterday');
    const short = await report(lake.dataDir, '--anchor', '5:2d1b5b20');
    const file = await report(lake.dataDir, '--anchor', junk);
    const stack = await loglake([
      'compliance-report',
      '--stack',
      'LogLake',
      '--anchor',
      `5:${'a'.repeat(64)}`,
    ]);

    // Assert
    for (const r of [word, short, file, stack]) {
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
    }
    expect(word.stderr).toContain(
      'loglake: error: --anchor: expected <seq>:<64 hex digits>, as a report printed it ("next anchor: …") or a file holding it; received "yesterday", which is neither',
    );
    expect(short.stderr).toContain('received "5:2d1b5b20", which is neither');
    expect(file.stderr).toContain(
      `--anchor: ${junk} holds neither <seq>:<64 hex digits>, as a report printed it ("next anchor: …") nor a JSON report with an "anchor"; it starts with "head seq 5 hash 2d1b"`,
    );
    expect(stack.stderr).toContain(
      "--anchor checks the local lake's integrity log; a deployed stack has none",
    );
  });
});
