/**
 * Lines a shipper dropped, kept in a file so that they can be sent again (`loglake send
 * --dropped-file f`, the pino transport's `droppedFile`), instead of being only counted:
 * `loglake send --stream logs < f` ships them once the stream is back.
 *
 * Appended synchronously as they are dropped (a drop at exit must not wait for an event loop that is
 * about to stop), made durable on {@link DroppedLinesFile.close}. A failed append keeps nothing of its
 * lines: the file is cut back to where it was, so it never holds a torn line. The file is created
 * private (0600): these are the lines as the application wrote them, before any redaction.
 */
import { closeSync, fstatSync, fsyncSync, ftruncateSync, openSync, statSync, writeSync } from 'node:fs';
import { InputError } from '../errors';

export class DroppedLinesFile {
  private fd: number | undefined;
  private size = 0;
  /** Lines written to the file. */
  kept = 0;
  /** Lines that could not be written, and the first error that stopped them. */
  lost = 0;
  error: Error | undefined;

  constructor(readonly path: string) {}

  /**
   * Appends `data` (newline-terminated lines, as the shipper's `onDrop` gives them): all of it, or,
   * when writing fails (a full disk), nothing of it. Returns whether the lines were kept.
   */
  keep(lines: number, data: readonly Buffer[]): boolean {
    try {
      if (this.fd === undefined) {
        this.fd = openSync(this.path, 'a', 0o600);
        this.size = fstatSync(this.fd).size;
      }
    } catch (error) {
      return this.fail(lines, error);
    }
    const fd = this.fd;
    let written = 0;
    try {
      for (const chunk of data) {
        for (let offset = 0; offset < chunk.length; ) offset += writeSync(fd, chunk, offset);
        written += chunk.length;
      }
    } catch (error) {
      try {
        ftruncateSync(fd, this.size);
      } catch {
        // Cannot cut it back either: the torn end is what a crash mid-write would leave.
      }
      return this.fail(lines, error);
    }
    this.size += written;
    this.kept += lines;
    return true;
  }

  /** Makes what was kept durable and closes the file; false (and `error` set) when it could not. */
  close(): boolean {
    const fd = this.fd;
    if (fd === undefined) return this.error === undefined;
    this.fd = undefined;
    try {
      fsyncSync(fd);
    } catch (error) {
      this.error ??= error instanceof Error ? error : new Error(String(error));
      return false;
    } finally {
      try {
        closeSync(fd);
      } catch {
        // Synced (or already failed): nothing more to lose.
      }
    }
    return this.error === undefined;
  }

  private fail(lines: number, error: unknown): false {
    this.lost += lines;
    this.error ??= error instanceof Error ? error : new Error(String(error));
    return false;
  }
}

/**
 * Keeps dropped lines in `file`, if there is one; what to add to the drop's report: where they were
 * kept, or why they could not be.
 */
export function keepDropped(
  file: DroppedLinesFile | undefined,
  lines: number,
  data: readonly Buffer[],
): string {
  if (file === undefined) return '';
  return file.keep(lines, data)
    ? `; kept in ${file.path}`
    : `; could not keep them in ${file.path}: ${file.error?.message}`;
}

/**
 * @throws InputError when `path` is the file open as `fd` (`loglake send --dropped-file f < f` would
 * read back what it drops, for as long as the stream is down).
 */
export function refuseReadingOwnDrops(path: string, fd: number, flag: string): void {
  let input: ReturnType<typeof fstatSync>;
  let target: ReturnType<typeof statSync>;
  try {
    input = fstatSync(fd);
    target = statSync(path);
  } catch {
    return;
  }
  if (input.isFile() && input.dev === target.dev && input.ino === target.ino) {
    throw new InputError(
      `${flag} ${path} is the input itself: lines dropped again would be read again; keep them in another file`,
    );
  }
}
