/**
 * An access-log ledger in memory with the DynamoDB ledger's conditions (`src/sources/dynamodb-ledger.ts`),
 * for the core's tests; the DynamoDB conditions themselves run against MiniStack's DynamoDB in
 * test/sources/dynamodb-ledger.emulator.test.ts, with the same contract cases as this one
 * (test/helpers/ledger-contract.ts).
 */
import type {
  Claim,
  DoneSummary,
  Lease,
  ObjectDelivery,
  ObjectLedger,
} from '../../src/sources/access-log-ledger';

interface LedgerRecord {
  state: 'in_progress' | 'done';
  owner: string;
  attempt: number;
  leaseUntil?: number;
  nextLine: number;
  done?: DoneSummary;
}

export class MemoryLedger implements ObjectLedger {
  readonly records = new Map<string, LedgerRecord>();

  async claim(delivery: ObjectDelivery, owner: string, leaseUntil: number, now: number): Promise<Claim> {
    const id = this.id(delivery);
    const r = this.records.get(id);
    if (r?.state === 'done')
      return { state: 'done', outcome: r.done?.outcome ?? 'shipped', attempts: r.attempt };
    if (r && (r.leaseUntil ?? 0) > now && r.owner !== owner)
      return { state: 'busy', owner: r.owner, leaseUntil: r.leaseUntil ?? 0 };
    const next = {
      state: 'in_progress' as const,
      owner,
      leaseUntil,
      attempt: (r?.attempt ?? 0) + 1,
      nextLine: r?.nextLine ?? 1,
    };
    this.records.set(id, next);
    return { state: 'claimed', lease: { owner, attempt: next.attempt }, nextLine: next.nextLine };
  }

  async checkpoint(
    delivery: ObjectDelivery,
    lease: Lease,
    nextLine: number,
    _now?: number,
  ): Promise<boolean> {
    const r = this.held(delivery, lease);
    if (r) r.nextLine = nextLine;
    return r !== undefined;
  }

  async finish(
    delivery: ObjectDelivery,
    lease: Lease,
    summary: DoneSummary,
    _now?: number,
  ): Promise<boolean> {
    const r = this.held(delivery, lease);
    if (r) {
      r.state = 'done';
      r.done = summary;
      r.leaseUntil = undefined;
    }
    return r !== undefined;
  }

  get(delivery: ObjectDelivery): LedgerRecord | undefined {
    return this.records.get(this.id(delivery));
  }

  private held(delivery: ObjectDelivery, lease: Lease): LedgerRecord | undefined {
    const r = this.records.get(this.id(delivery));
    return r?.state === 'in_progress' && r.owner === lease.owner && r.attempt === lease.attempt
      ? r
      : undefined;
  }

  private id(d: ObjectDelivery): string {
    return `${d.object}\n${d.delivery}`;
  }
}
