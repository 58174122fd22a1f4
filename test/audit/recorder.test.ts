/**
 * The access recorder's core: the principal is the caller the function URL verified, whatever the body
 * claims; a body that is not an access or privacy event is refused with the reason; nothing is claimed
 * as recorded unless the put resolved.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LambdaFunctionURLEventWithIAMAuthorizer } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { AccessEvent } from '../../src/audit/access';
import {
  handleRecorderRequest,
  MAX_RECORDER_BODY_BYTES,
  RECORDED_BY,
  type RecorderRequest,
  recorderRequestOf,
} from '../../src/audit/recorder';
import type { PrivacyRequest } from '../../src/privacy/audit';

const fixture = (): LambdaFunctionURLEventWithIAMAuthorizer =>
  JSON.parse(
    readFileSync(join(__dirname, '..', 'fixtures', 'events', 'function-url', 'iam-post.json'), 'utf8'),
  ) as LambdaFunctionURLEventWithIAMAuthorizer;

const VERIFIED = 'arn:aws:sts::123456789012:assumed-role/LogLakeStack-AccessDeveloperRole-1A2B3C4D5E6F/jane';
const FORGED =
  'arn:aws:sts::123456789012:assumed-role/LogLakeStack-AccessSecurityRole-9Z8Y7X6W5V4U/someone-else';

const accessEvent = (over: Partial<AccessEvent> = {}): AccessEvent => ({
  id: '0b6f2a52-5c1e-4d8e-9a3b-2f1c0d9e8a7b',
  time: '2025-01-06T12:04:58.000Z',
  principal: VERIFIED,
  persona: 'developer',
  command: 'search',
  engine: 'athena',
  lake: 'wg/lake',
  queryKind: 'search',
  categories: ['errors'],
  filter: { since: '1h' },
  rows: 3,
  outcome: 'completed',
  durationMs: 10,
  flags: [],
  ...over,
});

const privacyRequest = (over: Partial<PrivacyRequest> = {}): PrivacyRequest => ({
  time: '2025-01-06T12:04:58.000Z',
  action: 'erase',
  principal: VERIFIED,
  persona: 'privacy-officer',
  subject: 'a'.repeat(64),
  store: 'dynamodb:loglake-subject-keys',
  outcome: 'key destroyed',
  reason: 'ticket 42',
  ...over,
});

const post = (body: unknown): RecorderRequest => ({
  method: 'POST',
  body: typeof body === 'string' ? body : JSON.stringify(body),
  isBase64Encoded: false,
  caller: { userArn: VERIFIED, accountId: '123456789012', callerId: 'AROAEXAMPLEROLEID1234:jane' },
});

/** Runs the core with a put that keeps what it was given. */
async function run(request: RecorderRequest, put?: () => Promise<void>) {
  const put_: Record<string, unknown>[] = [];
  const outcome = await handleRecorderRequest(request, async (logEvent) => {
    if (put) await put();
    put_.push(logEvent);
  });
  return { ...outcome, put: put_, answer: JSON.parse(outcome.response.body) as Record<string, unknown> };
}

describe('recorderRequestOf', () => {
  it('reads the caller from the verified IAM authorizer of a function URL event', () => {
    // Arrange
    const event = fixture();

    // Act
    const request = recorderRequestOf(event);

    // Assess
    expect(request).toMatchObject({
      method: 'POST',
      isBase64Encoded: false,
      caller: { userArn: VERIFIED, accountId: '123456789012', callerId: 'AROAEXAMPLEROLEID1234:jane' },
    });
  });

  it('has no caller when the URL did not authenticate one', () => {
    // Arrange: an auth type NONE event has no authorizer
    const event = fixture() as unknown as { requestContext: Record<string, unknown> };
    delete event.requestContext.authorizer;

    // Act
    const request = recorderRequestOf(event as unknown as LambdaFunctionURLEventWithIAMAuthorizer);

    // Assess
    expect(request.caller).toBeUndefined();
  });
});

describe('handleRecorderRequest', () => {
  it('records an access event as the verified caller, keeping a forged principal apart', async () => {
    // Arrange: the fixture's body claims to be someone else
    const request = recorderRequestOf(fixture());

    // Act
    const { response, put } = await run(request);

    // Assess
    expect(response.statusCode).toBe(200);
    expect(put).toHaveLength(1);
    const [logEvent] = put as [Record<string, unknown> & { access: Record<string, unknown> }];
    expect(logEvent.access.principal).toBe(VERIFIED);
    expect(logEvent.message).toContain(`by ${VERIFIED}`);
    expect(logEvent.message).not.toContain('someone-else');
    expect(logEvent.claimed_principal).toBe(FORGED);
    expect(logEvent.recorded_by).toBe(RECORDED_BY);
    expect(logEvent).toMatchObject({ category: 'audit', service: 'loglake-access' });
  });

  it('adds no claimed principal when the claim is the verified caller', async () => {
    // Arrange
    const request = post({ kind: 'access', event: accessEvent() });

    // Act
    const { response, put } = await run(request);

    // Assess
    expect(response.statusCode).toBe(200);
    expect(put[0]).not.toHaveProperty('claimed_principal');
    expect(put[0]?.recorded_by).toBe(RECORDED_BY);
  });

  it('records a privacy event as the verified caller', async () => {
    // Arrange
    const request = post({ kind: 'privacy', request: privacyRequest({ principal: FORGED }) });

    // Act
    const { response, put } = await run(request);

    // Assess
    expect(response.statusCode).toBe(200);
    const [logEvent] = put as [Record<string, unknown> & { privacy: Record<string, unknown> }];
    expect(logEvent.privacy).toMatchObject({ action: 'erase', principal: VERIFIED, subject: 'a'.repeat(64) });
    expect(logEvent.message).toBe(`subject erase by ${VERIFIED} as privacy-officer: key destroyed`);
    expect(logEvent.claimed_principal).toBe(FORGED);
  });

  it.each([
    ['no body', undefined, 'body: missing'],
    ['not JSON', '{"kind":', 'body: not JSON'],
    ['an unknown kind', { kind: 'log', event: {} }, 'body.kind'],
    [
      'a field the CLI never writes',
      { kind: 'access', event: { ...accessEvent(), level: 'INFO' } },
      'body.event',
    ],
    ['a wrong type', { kind: 'access', event: { ...accessEvent(), rows: '3' } }, 'body.event.rows'],
    ['a local read', { kind: 'access', event: accessEvent({ engine: 'duckdb' }) }, 'body.event.engine'],
    [
      'an unknown category',
      { kind: 'access', event: { ...accessEvent(), categories: ['secrets'] } },
      'body.event.categories: expected "all" or a list of',
    ],
    [
      'a raw user id as subject',
      { kind: 'privacy', request: privacyRequest({ subject: 'alice@example.com' }) },
      'body.request.subject: expected the subject reference',
    ],
    [
      'a time that is not ISO-8601',
      { kind: 'privacy', request: privacyRequest({ time: 'yesterday' }) },
      'body.request.time',
    ],
  ])('refuses %s with a 400 naming it, and records nothing', async (_what, body, reason) => {
    // Arrange
    const request = {
      ...post(''),
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    };

    // Act
    const { response, put, answer } = await run(request);

    // Assess
    expect(response.statusCode).toBe(400);
    expect(String(answer.error)).toContain(reason);
    expect(put).toEqual([]);
  });

  it('refuses a body over the size limit', async () => {
    // Arrange
    const request = post({
      kind: 'access',
      event: accessEvent({ filter: { text: 'x'.repeat(MAX_RECORDER_BODY_BYTES) } }),
    });

    // Act
    const { response, put, answer } = await run(request);

    // Assess
    expect(response.statusCode).toBe(400);
    expect(String(answer.error)).toContain(`more than the ${MAX_RECORDER_BODY_BYTES} allowed`);
    expect(put).toEqual([]);
  });

  it('reads a base64 body', async () => {
    // Arrange
    const text = JSON.stringify({ kind: 'access', event: accessEvent() });
    const request = { ...post(''), body: Buffer.from(text).toString('base64'), isBase64Encoded: true };

    // Act
    const { response, put } = await run(request);

    // Assess
    expect(response.statusCode).toBe(200);
    expect(put).toHaveLength(1);
  });

  it('answers 503 and claims nothing recorded when the audit stream does not accept the event', async () => {
    // Arrange
    const request = post({ kind: 'access', event: accessEvent() });
    const refusal = new Error(
      'audit stream loglake-audit did not accept the event: ServiceUnavailableException',
    );

    // Act
    const { response, failure, answer } = await run(request, () => Promise.reject(refusal));

    // Assess
    expect(response.statusCode).toBe(503);
    expect(answer).not.toHaveProperty('recorded');
    expect(String(answer.error)).toContain('not recorded');
    expect(failure).toBe(refusal);
  });

  it('refuses a request without a verified caller, and anything but POST', async () => {
    // Arrange
    const body = { kind: 'access', event: accessEvent() };
    const anonymous = { ...post(body), caller: undefined };
    const get = { ...post(body), method: 'GET' };

    // Act
    const refusedAnonymous = await run(anonymous);
    const refusedGet = await run(get);

    // Assess
    expect(refusedAnonymous.response.statusCode).toBe(403);
    expect(refusedGet.response.statusCode).toBe(405);
    expect([...refusedAnonymous.put, ...refusedGet.put]).toEqual([]);
  });
});
