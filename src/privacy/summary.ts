/** What `loglake subject export` tells a person about their records, besides the records themselves. */

/** The fields of a record the summary reads. */
export interface SummarizedRecord {
  readonly timestamp: string;
  readonly category: string;
  readonly service: string;
  readonly redactions: Readonly<Record<string, number>>;
}

export interface SubjectSummary {
  records: number;
  byCategory: Record<string, number>;
  byService: Record<string, number>;
  firstSeen: string | null;
  lastSeen: string | null;
  /** Kinds of data removed from the records (detector kind → how many times). */
  redacted: Record<string, number>;
}

export function emptySummary(): SubjectSummary {
  return { records: 0, byCategory: {}, byService: {}, firstSeen: null, lastSeen: null, redacted: {} };
}

/** Adds one record to `s`. */
export function addToSummary(s: SubjectSummary, r: SummarizedRecord): void {
  s.records++;
  s.byCategory[r.category] = (s.byCategory[r.category] ?? 0) + 1;
  s.byService[r.service] = (s.byService[r.service] ?? 0) + 1;
  if (s.firstSeen === null || r.timestamp < s.firstSeen) s.firstSeen = r.timestamp;
  if (s.lastSeen === null || r.timestamp > s.lastSeen) s.lastSeen = r.timestamp;
  for (const [kind, n] of Object.entries(r.redactions)) s.redacted[kind] = (s.redacted[kind] ?? 0) + n;
}
