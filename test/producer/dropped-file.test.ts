/**
 * The file dropped lines are kept in: appended whole, private, durable on close; a failed append
 * (a full disk, a file size limit) keeps nothing of its lines, and the file never holds a torn line.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors';
import { DroppedLinesFile, refuseReadingOwnDrops } from '../../src/producer/dropped-file';

const ROOT = join(__dirname, '..', '..');
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'loglake-dropped-'));
  dirs.push(d);
  return d;
}

const lines = (from: number, n: number) =>
  Buffer.from(Array.from({ length: n }, (_, i) => `{"message":"line ${from + i}"}\n`).join(''));

describe('DroppedLinesFile', () => {
  it('appends what it is given after what the file held, private to its owner, and syncs on close', () => {
    // Prepare
    const path = join(tempDir(), 'dropped.ndjson');
    writeFileSync(path, 'earlier\n', { mode: 0o600 });
    const file = new DroppedLinesFile(path);

    // Act
    const first = file.keep(3, [lines(0, 3)]);
    const second = file.keep(2, [lines(3, 1), lines(4, 1)]);
    const closed = file.close();

    // Assess
    expect([first, second, closed]).toEqual([true, true, true]);
    expect(readFileSync(path, 'utf8')).toBe(`earlier\n${lines(0, 5).toString()}`);
    expect([file.kept, file.lost]).toEqual([5, 0]);
  });

  it('creates the file readable by its owner only: the lines are unredacted', () => {
    // Prepare
    const path = join(tempDir(), 'new.ndjson');
    const file = new DroppedLinesFile(path);

    // Act
    file.keep(1, [lines(0, 1)]);
    file.close();

    // Assess
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('counts lines it could not write on a full disk as lost, with the error', () => {
    // Prepare: /dev/full fails every write with ENOSPC
    const file = new DroppedLinesFile('/dev/full');

    // Act
    const kept = file.keep(4, [lines(0, 4)]);

    // Assess
    expect(kept).toBe(false);
    expect([file.kept, file.lost]).toEqual([0, 4]);
    expect(file.error?.message).toMatch(/ENOSPC/);
  });

  it('cuts a failed append back: the file keeps the lines before it and no torn line', () => {
    // Prepare: a child whose files may not grow past 1 KiB (ulimit -f), so the second append fails in
    // the middle of its bytes (EFBIG)
    const path = join(tempDir(), 'limited.ndjson');
    const script = [
      "process.on('SIGXFSZ', () => {});",
      `const { DroppedLinesFile } = require(${JSON.stringify(join(ROOT, 'src', 'producer', 'dropped-file.ts'))});`,
      `const file = new DroppedLinesFile(${JSON.stringify(path)});`,
      `const a = file.keep(30, [Buffer.from(${JSON.stringify(lines(0, 30).toString())})]);`,
      `const b = file.keep(30, [Buffer.from(${JSON.stringify(lines(30, 30).toString())})]);`,
      'file.close();',
      'console.log(JSON.stringify({ a, b, kept: file.kept, lost: file.lost, error: file.error?.code }));',
    ].join('\n');

    // Act
    const child = spawnSync(
      'bash',
      ['-c', `ulimit -f 1 && exec "${process.execPath}" --import tsx -e "$0"`, script],
      {
        cwd: ROOT,
        encoding: 'utf8',
      },
    );

    // Assess
    expect(child.stderr).toBe('');
    expect(lines(0, 30).length).toBeLessThan(1024);
    expect(lines(0, 60).length).toBeGreaterThan(1024);
    expect(JSON.parse(child.stdout)).toEqual({ a: true, b: false, kept: 30, lost: 30, error: 'EFBIG' });
    expect(readFileSync(path, 'utf8')).toBe(lines(0, 30).toString());
  });
});

describe('refuseReadingOwnDrops', () => {
  it('refuses the file the input is read from, and accepts any other', () => {
    // Prepare
    const dir = tempDir();
    const input = join(dir, 'input.ndjson');
    const other = join(dir, 'other.ndjson');
    writeFileSync(input, lines(0, 2));
    writeFileSync(other, '');
    const fd = openSync(input, 'r');

    try {
      // Act, Assess
      expect(() => refuseReadingOwnDrops(input, fd, '--dropped-file')).toThrow(InputError);
      expect(() => refuseReadingOwnDrops(input, fd, '--dropped-file')).toThrow(/is the input itself/);
      expect(() => refuseReadingOwnDrops(other, fd, '--dropped-file')).not.toThrow();
      expect(() => refuseReadingOwnDrops(join(dir, 'absent.ndjson'), fd, '--dropped-file')).not.toThrow();
    } finally {
      closeSync(fd);
    }
  });
});
