/** The audit event of a privacy request (`loglake privacy erase|access`), written to the `audit` category. */

export const PRIVACY_SERVICE = 'loglake-privacy';
export const PRIVACY_LOGGER = 'loglake.privacy';

/** Why locked records are kept, and why that is still erasure (recorded with every erase). */
export const LOCKED_RECORDS_BASIS =
  'locked categories are kept unchanged under Object Lock (legal obligation, GDPR Art. 17(3)(b)); their pseudonyms are unlinkable once the subject key is destroyed';

export interface PrivacyRequest {
  readonly time: string;
  readonly action: 'erase' | 'access';
  readonly principal: string;
  readonly persona: string;
  /** The subject's lake-keyed reference, never the raw id. */
  readonly subject: string;
  /** Where the key is (`local:<dir>`, `dynamodb:<table>`). */
  readonly store: string;
  readonly outcome: string;
  readonly reason?: string;
  /** Records exported (access). */
  readonly records?: number;
}

export function privacyLogEvent(r: PrivacyRequest): Record<string, unknown> {
  return {
    timestamp: r.time,
    level: r.action === 'erase' ? 'WARN' : 'INFO',
    service: PRIVACY_SERVICE,
    logger: PRIVACY_LOGGER,
    category: 'audit',
    message: `privacy ${r.action} by ${r.principal} as ${r.persona}: ${r.outcome}`,
    privacy: {
      action: r.action,
      principal: r.principal,
      persona: r.persona,
      subject: r.subject,
      store: r.store,
      outcome: r.outcome,
      ...(r.reason !== undefined ? { reason: r.reason } : {}),
      ...(r.records !== undefined ? { records: String(r.records) } : {}),
      ...(r.action === 'erase' ? { kept: LOCKED_RECORDS_BASIS } : {}),
    },
  };
}
