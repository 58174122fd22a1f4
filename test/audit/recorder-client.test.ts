/**
 * The CLI's requests to the access recorder: signed with SigV4 for Lambda (checked here by recomputing
 * the signature from the specification, not with the signer), sent to a real HTTP server, retried on
 * 5xx, refused at once with the recorder's reason on 4xx.
 */
import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { functionUrlRegion, RecorderClient, signRecorderRequest } from '../../src/audit/recorder-client';
import { ATHENA_SEARCH_EVENT } from '../helpers/access-events';

const CREDENTIALS = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  sessionToken: 'session-token-example',
};
const URL_ = 'https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-1.on.aws/';
const NOW = new Date('2025-01-06T12:05:00Z');

const hex = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

/** The SigV4 signature of a request, computed from the specification (AWS General Reference, "Signature Version 4"). */
function expectedSignature(r: {
  method: string;
  path: string;
  headers: IncomingHttpHeaders | Record<string, string>;
  signedHeaders: string[];
  body: string;
  amzDate: string;
  region: string;
  service: string;
}): string {
  const canonicalHeaders = r.signedHeaders.map((h) => `${h}:${String(r.headers[h]).trim()}\n`).join('');
  const canonicalRequest = [
    r.method,
    r.path,
    '',
    canonicalHeaders,
    r.signedHeaders.join(';'),
    hex(r.body),
  ].join('\n');
  const day = r.amzDate.slice(0, 8);
  const scope = `${day}/${r.region}/${r.service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', r.amzDate, scope, hex(canonicalRequest)].join('\n');
  const key = hmac(
    hmac(hmac(hmac(`AWS4${CREDENTIALS.secretAccessKey}`, day), r.region), r.service),
    'aws4_request',
  );
  return createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
}

function authorizationParts(header: string) {
  const m = /^AWS4-HMAC-SHA256 Credential=([^,]+), SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
    header,
  );
  if (!m) throw new Error(`not a SigV4 authorization header: ${header}`);
  return { credential: m[1] ?? '', signedHeaders: (m[2] ?? '').split(';'), signature: m[3] ?? '' };
}

const event = ATHENA_SEARCH_EVENT;

describe('functionUrlRegion', () => {
  it('reads the region from a function URL, and none from another host', () => {
    // Arrange, Act, Assess
    expect(functionUrlRegion(URL_)).toBe('eu-west-1');
    expect(functionUrlRegion('http://127.0.0.1:8080/')).toBeUndefined();
  });
});

describe('signRecorderRequest', () => {
  it('signs a POST for the lambda service in the URL’s region, as SigV4 computes it', async () => {
    // Arrange
    const body = JSON.stringify({ kind: 'access', event });

    // Act
    const signed = await signRecorderRequest(
      { url: URL_, region: 'us-east-1', credentials: CREDENTIALS, now: () => NOW },
      body,
    );

    // Assess
    const auth = authorizationParts(signed.headers.authorization ?? '');
    expect(auth.credential).toBe('AKIDEXAMPLE/20250106/eu-west-1/lambda/aws4_request');
    expect(auth.signedHeaders).toEqual(expect.arrayContaining(['content-type', 'host', 'x-amz-date']));
    expect(signed.headers['x-amz-date']).toBe('20250106T120500Z');
    expect(signed.headers['x-amz-security-token']).toBe(CREDENTIALS.sessionToken);
    expect(auth.signature).toBe(
      expectedSignature({
        method: 'POST',
        path: '/',
        headers: signed.headers,
        signedHeaders: auth.signedHeaders,
        body,
        amzDate: '20250106T120500Z',
        region: 'eu-west-1',
        service: 'lambda',
      }),
    );
  });
});

describe('RecorderClient', () => {
  const servers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((close) => close()));
  });

  /** A server answering each POST with the next status, checking its signature as received. */
  async function recorder(statuses: number[]) {
    const received: Array<{ body: unknown; signatureValid: boolean }> = [];
    const server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = Buffer.concat(chunks).toString('utf8');
      const auth = authorizationParts(String(req.headers.authorization));
      const signatureValid =
        auth.signature ===
        expectedSignature({
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          signedHeaders: auth.signedHeaders,
          body,
          amzDate: String(req.headers['x-amz-date']),
          region: 'eu-west-1',
          service: 'lambda',
        });
      received.push({ body: JSON.parse(body), signatureValid });
      const status = statuses[received.length - 1] ?? 200;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(status === 200 ? { recorded: true } : { error: `refused with ${status}` }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const client = new RecorderClient({
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
      region: 'eu-west-1',
      credentials: async () => CREDENTIALS,
      backoff: { baseMs: 1, capMs: 1 },
    });
    return { client, received };
  }

  it('sends the event signed as received, and retries a 5xx until it is recorded', async () => {
    // Arrange
    const { client, received } = await recorder([503, 200]);

    // Act
    await client.accessSink().record(event);

    // Assess
    expect(received).toHaveLength(2);
    expect(received.every((r) => r.signatureValid)).toBe(true);
    expect(received[1]?.body).toEqual({ kind: 'access', event });
  });

  it('fails at once with the recorder’s reason on a 4xx', async () => {
    // Arrange
    const { client, received } = await recorder([400]);

    // Act
    const sent = client.accessSink().record(event);

    // Assess
    await expect(sent).rejects.toThrow('did not record the event: 400 refused with 400');
    expect(received).toHaveLength(1);
  });

  it('fails after its last attempt when the recorder keeps failing', async () => {
    // Arrange
    const { client, received } = await recorder([503, 500, 429]);

    // Act
    const sent = client.accessSink().record(event);

    // Assess
    await expect(sent).rejects.toThrow('did not record the event: 429 refused with 429');
    expect(received).toHaveLength(3);
  });
});
