/** The audit event of a subject request (`loglake subject export|erase|cancel`), written to the `audit` category. */

export const PRIVACY_SERVICE = 'loglake-privacy';
export const PRIVACY_LOGGER = 'loglake.privacy';

/** Why locked records are kept, and why that is still erasure (recorded with every erase). */
export const LOCKED_RECORDS_BASIS =
  'locked categories are kept unchanged under Object Lock (legal obligation, GDPR Art. 17(3)(b)); their pseudonyms are unlinkable once the subject key is destroyed';

/**
 * `erase`: the key was destroyed (or was already gone); `erase-scheduled`: an erasure with a
 * cancellation window was recorded; `cancel`: a scheduled erasure was withdrawn; `export`: the
 * person's records were exported.
 */
export const PRIVACY_ACTIONS = ['erase', 'erase-scheduled', 'cancel', 'export'] as const;
export type PrivacyAction = (typeof PRIVACY_ACTIONS)[number];

export interface PrivacyRequest {
  readonly time: string;
  readonly action: PrivacyAction;
  readonly principal: string;
  readonly persona: string;
  /** The subject's lake-keyed reference, never the raw id. */
  readonly subject: string;
  /** Where the key is (`local:<dir>`, `dynamodb:<table>`). */
  readonly store: string;
  readonly outcome: string;
  readonly reason?: string;
  /** Records exported (export). */
  readonly records?: number;
  /** When a scheduled erasure is due (erase-scheduled, and erase when it was scheduled). */
  readonly due?: string;
  /** What `--purge` rewrote (erase). */
  readonly purged?: string;
}

export function privacyLogEvent(r: PrivacyRequest): Record<string, unknown> {
  const erasing = r.action === 'erase' || r.action === 'erase-scheduled';
  return {
    timestamp: r.time,
    level: r.action === 'export' ? 'INFO' : 'WARN',
    service: PRIVACY_SERVICE,
    logger: PRIVACY_LOGGER,
    category: 'audit',
    message: `subject ${r.action} by ${r.principal} as ${r.persona}: ${r.outcome}`,
    privacy: {
      action: r.action,
      principal: r.principal,
      persona: r.persona,
      subject: r.subject,
      store: r.store,
      outcome: r.outcome,
      ...(r.reason !== undefined ? { reason: r.reason } : {}),
      ...(r.records !== undefined ? { records: String(r.records) } : {}),
      ...(r.due !== undefined ? { due: r.due } : {}),
      ...(r.purged !== undefined ? { purged: r.purged } : {}),
      ...(erasing ? { kept: LOCKED_RECORDS_BASIS } : {}),
    },
  };
}

/**
 * The `erase` event of a scheduled erasure carried out by `by` (the local runs and the AWS executor
 * write the same one).
 */
export function scheduledEraseEvent(e: {
  readonly time: string;
  readonly by: string;
  readonly store: string;
  readonly request: {
    readonly subject: string;
    readonly persona: string;
    readonly principal: string;
    readonly requested: string;
    readonly reason: string;
    readonly due: string;
  };
  readonly destroyed: boolean;
  readonly purged?: string | undefined;
}): Record<string, unknown> {
  const { request } = e;
  return privacyLogEvent({
    time: e.time,
    action: 'erase',
    principal: e.by,
    persona: request.persona,
    subject: request.subject,
    store: e.store,
    outcome: `${e.destroyed ? 'key destroyed' : 'no key'} (requested by ${request.principal} at ${request.requested})`,
    reason: request.reason,
    due: request.due,
    ...(e.purged !== undefined ? { purged: e.purged } : {}),
  });
}
