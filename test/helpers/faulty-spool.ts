/**
 * A spool file system that fails on cue, over the real one: the seam (`SpoolIo`) the local pipeline
 * takes for fault-injection tests. A scripted fault hits the next operation of its kind:
 *
 * - `append` writes `prefix` bytes of the data for real, then throws (ENOSPC by default): a torn write;
 * - `datasync`, `truncate`, `rename`, `create` throw without doing anything (EIO by default);
 * - `crash: true` makes that operation and every later one throw without touching the disk, as if the
 *   process had died right there (what reached the file before stays).
 */
import { nodeSpoolIo, type SpoolFile, type SpoolIo } from '../../src/local/spool';

export type SpoolOp = 'create' | 'append' | 'datasync' | 'truncate' | 'rename';

export interface SpoolFault {
  readonly op: SpoolOp;
  /** For `append`: bytes written before the failure (clamped to the data's length). @default 0 */
  readonly prefix?: number;
  /** @default ENOSPC for append and create, EIO otherwise */
  readonly code?: string;
  /** The process dies at this point. @default false */
  readonly crash?: boolean;
  /** Let this many operations of the kind succeed first. @default 0 */
  readonly skip?: number;
}

export class FaultySpoolIo implements SpoolIo {
  /** Faults still to fire, in order per operation kind (with what is left of their `skip`). */
  readonly script: Array<SpoolFault & { skip: number }> = [];
  /** Every operation attempted, in order (for assertions on what the spool did). */
  readonly log: SpoolOp[] = [];
  crashed = false;

  /** Queue faults; each hits the next operation of its kind. */
  fail(...faults: SpoolFault[]): this {
    this.script.push(...faults.map((f) => ({ ...f, skip: f.skip ?? 0 })));
    return this;
  }

  async create(path: string): Promise<SpoolFile> {
    this.step('create');
    const file = await nodeSpoolIo.create(path);
    return {
      append: async (data) => {
        const fault = this.step('append', true);
        if (fault) {
          await file.append(data.subarray(0, Math.min(fault.prefix ?? 0, data.length)));
          this.raise(fault);
        }
        await file.append(data);
      },
      datasync: async () => {
        this.step('datasync');
        await file.datasync();
      },
      truncate: async (length) => {
        this.step('truncate');
        await file.truncate(length);
      },
      close: () => file.close(),
    };
  }

  async rename(from: string, to: string): Promise<void> {
    this.step('rename');
    await nodeSpoolIo.rename(from, to);
  }

  /** Log `op`; throw its fault now, or (`deferred`) hand it back for the caller to fire. */
  private step(op: SpoolOp, deferred = false): SpoolFault | undefined {
    this.log.push(op);
    if (this.crashed) throw errno('ECRASHED', `${op} after the simulated crash`);
    const i = this.script.findIndex((f) => f.op === op);
    const next = this.script[i];
    if (!next) return undefined;
    if (next.skip > 0) {
      next.skip--;
      return undefined;
    }
    const [fault] = this.script.splice(i, 1);
    if (!fault) return undefined;
    if (deferred) return fault;
    this.raise(fault);
  }

  private raise(fault: SpoolFault): never {
    if (fault.crash) this.crashed = true;
    const code = fault.code ?? (fault.op === 'append' || fault.op === 'create' ? 'ENOSPC' : 'EIO');
    throw errno(code, `${code}: injected ${fault.op} failure`);
  }
}

function errno(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}
