/**
 * The access recorder's core (`lambdas/access-recorder`): the CLI's access and privacy events, sent to
 * a Lambda function URL with `AWS_IAM` auth instead of written to the audit stream with the caller's own
 * credentials, so the caller cannot name someone else or write anything but these two shapes.
 *
 * The body is validated strictly ({@link recorderBodySchema}); the event's principal is the caller the
 * function URL verified (the signer of the request), and what the client claimed is kept as
 * `claimed_principal` only when it differs. The log event is built here from the validated fields (its
 * message names the verified principal), stamped `recorded_by: access-recorder`, and handed to `put`;
 * the answer is 2xx only once `put` resolved, that is once Firehose accepted it.
 *
 * Pure: plain data in and out; the handler passes the verified caller and the Firehose put.
 */
import type { LambdaFunctionURLEventWithIAMAuthorizer } from 'aws-lambda';
import { z } from 'zod';
import { PRIVACY_ACTIONS, type PrivacyRequest, privacyLogEvent } from '../privacy/audit';
import { CATEGORIES, PERSONAS } from '../schema';
import { ACCESS_FLAGS, type AccessEvent, accessLogEvent } from './access';

/** What the recorder stamps on every event it writes (`attributes['recorded_by']` in the lake). */
export const RECORDED_BY = 'access-recorder';

/**
 * Largest body accepted, in bytes. An access event is well under 4 KiB; the filter's text and ids are
 * the only free-form part, and the transform's own record limit is far above this.
 */
export const MAX_RECORDER_BODY_BYTES = 64 * 1024;

const text = (max: number) => z.string().min(1).max(max);
const isoTime = z.iso.datetime({ offset: true });
const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

/** An access event as the CLI writes it for an Athena read (`src/audit/access.ts`). */
export const accessEventSchema = z.strictObject({
  id: text(128).optional(),
  time: isoTime,
  principal: text(2048),
  persona: z.enum(PERSONAS).optional(),
  command: text(200),
  rule: text(256).optional(),
  // The CLI sends only its Athena reads here; local reads are written into the local lake.
  engine: z.literal('athena'),
  lake: text(1024),
  queryKind: text(64),
  categories: z.union([z.literal('all'), z.array(z.enum(CATEGORIES)).max(CATEGORIES.length)], {
    error: `expected "all" or a list of ${CATEGORIES.join(', ')}`,
  }),
  filter: z.record(text(64), z.string().max(16 * 1024)),
  rows: count,
  bytesScanned: count.optional(),
  queryId: text(128).optional(),
  outcome: z.enum(['started', 'completed', 'failed', 'abandoned']),
  durationMs: count,
  flags: z.array(z.enum(ACCESS_FLAGS)).max(ACCESS_FLAGS.length),
});

/** A subject request's event as `loglake subject export|erase|cancel --stack` writes it (`src/privacy/audit.ts`). */
export const privacyRequestSchema = z.strictObject({
  time: isoTime,
  action: z.enum(PRIVACY_ACTIONS),
  principal: text(2048),
  persona: z.enum(PERSONAS),
  // The lake-keyed reference (hex HMAC-SHA256), never a raw id.
  subject: z.string().regex(/^[0-9a-f]{64}$/, 'expected the subject reference (64 hex digits)'),
  store: text(512),
  outcome: text(1024),
  reason: text(2048).optional(),
  records: count.optional(),
  due: isoTime.optional(),
  purged: text(2048).optional(),
});

export const recorderBodySchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('access'), event: accessEventSchema }),
  z.strictObject({ kind: z.literal('privacy'), request: privacyRequestSchema }),
]);

/** What the CLI sends the recorder. */
export type RecorderBody =
  | { readonly kind: 'access'; readonly event: AccessEvent }
  | { readonly kind: 'privacy'; readonly request: PrivacyRequest };

/** The caller the function URL verified (`requestContext.authorizer.iam`). */
export interface VerifiedCaller {
  /** The signer's ARN: the assumed-role session (`arn:aws:sts::<account>:assumed-role/<role>/<session>`) or the user. */
  readonly userArn: string;
  readonly accountId: string;
  readonly callerId: string;
}

export interface RecorderRequest {
  readonly method: string;
  readonly body: string | undefined;
  readonly isBase64Encoded: boolean;
  /** Absent when the request did not come through `AWS_IAM` auth (a misconfigured URL): refused. */
  readonly caller: VerifiedCaller | undefined;
}

export interface RecorderResponse {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  /** JSON: `{ recorded: true }` or `{ error }`. */
  readonly body: string;
}

/** Why a request was refused or not recorded, for the handler's log (no event content). */
export interface RecorderOutcome {
  readonly response: RecorderResponse;
  /** Set when the put failed (a 5xx): the error, to be logged. */
  readonly failure?: unknown;
}

/**
 * The request as the core reads it from a function URL event. The caller comes only from
 * `requestContext.authorizer.iam`, which Lambda fills in after verifying the SigV4 signature; nothing
 * the client sends (headers, body) can set it.
 */
export function recorderRequestOf(event: LambdaFunctionURLEventWithIAMAuthorizer): RecorderRequest {
  // Typed as always present, but absent when the URL's auth type is NONE.
  const iam = (event.requestContext.authorizer as Partial<typeof event.requestContext.authorizer> | undefined)
    ?.iam;
  return {
    method: event.requestContext.http.method,
    body: event.body,
    isBase64Encoded: event.isBase64Encoded,
    caller: iam?.userArn
      ? { userArn: iam.userArn, accountId: iam.accountId, callerId: iam.callerId }
      : undefined,
  };
}

const respond = (statusCode: number, body: Record<string, unknown>): RecorderResponse => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

/** The body parsed and validated, or why not (a message for the 400 answer). */
export function parseRecorderBody(
  body: string | undefined,
  isBase64Encoded: boolean,
): { readonly body: RecorderBody } | { readonly error: string } {
  if (body === undefined || body === '') return { error: 'body: missing (a JSON access or privacy event)' };
  const bytes = isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
  if (bytes.length > MAX_RECORDER_BODY_BYTES) {
    return { error: `body: ${bytes.length} bytes, more than the ${MAX_RECORDER_BODY_BYTES} allowed` };
  }
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    return { error: `body: not JSON (${error instanceof Error ? error.message : String(error)})` };
  }
  const parsed = recorderBodySchema.safeParse(json);
  if (!parsed.success) {
    return {
      error: parsed.error.issues
        .map((i) => `${['body', ...i.path.map(String)].join('.')}: ${i.message}`)
        .join('; '),
    };
  }
  return { body: parsed.data };
}

/**
 * The log event the recorder puts on the audit stream: built from the validated body with the verified
 * caller as its principal, the client's claim kept apart when it differs.
 */
export function recordedLogEvent(body: RecorderBody, caller: VerifiedCaller): Record<string, unknown> {
  const claimed = body.kind === 'access' ? body.event.principal : body.request.principal;
  const logEvent =
    body.kind === 'access'
      ? accessLogEvent({ ...body.event, principal: caller.userArn })
      : privacyLogEvent({ ...body.request, principal: caller.userArn });
  return {
    ...logEvent,
    recorded_by: RECORDED_BY,
    ...(claimed !== caller.userArn ? { claimed_principal: claimed } : {}),
  };
}

/**
 * One request to the recorder: 200 once `put` accepted the event; 400 naming what is wrong with the
 * body; 403 without a verified caller; 405 for anything but POST; 503 when `put` failed (nothing was
 * recorded: the client retries).
 */
export async function handleRecorderRequest(
  request: RecorderRequest,
  put: (logEvent: Record<string, unknown>) => Promise<void>,
): Promise<RecorderOutcome> {
  if (request.method !== 'POST') return { response: respond(405, { error: 'method: only POST' }) };
  if (!request.caller?.userArn) {
    return {
      response: respond(403, { error: 'caller: not verified (the function URL must use AWS_IAM auth)' }),
    };
  }
  const parsed = parseRecorderBody(request.body, request.isBase64Encoded);
  if ('error' in parsed) return { response: respond(400, { error: parsed.error }) };
  try {
    await put(recordedLogEvent(parsed.body, request.caller));
  } catch (failure) {
    return {
      response: respond(503, { error: 'not recorded: the audit stream did not accept the event; retry' }),
      failure,
    };
  }
  return { response: respond(200, { recorded: true, principal: request.caller.userArn }) };
}
