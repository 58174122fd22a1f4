/**
 * An HTTP endpoint answering AWS JSON-protocol calls from a script (query-protocol calls are recorded by
 * their `Action`, and answered with the script's JSON, which such a client refuses), so a test drives the real SDK client
 * (its serialization, errors and pagination) without an AWS account. Records every call it receives.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ScriptedCall {
  readonly operation: string;
  readonly body: Record<string, unknown>;
}

export type Script = (call: ScriptedCall, index: number) => { status?: number; body: unknown };

export async function startScriptedAws(script: Script): Promise<{
  url: string;
  calls: ScriptedCall[];
  close: () => Promise<void>;
}> {
  const calls: ScriptedCall[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const target = String(req.headers['x-amz-target'] ?? '');
    const text = Buffer.concat(chunks).toString('utf8');
    // A query-protocol call (STS, CloudFormation) is form-encoded: its operation is the `Action` field.
    const form = target === '' ? new URLSearchParams(text) : undefined;
    const call = {
      operation: form ? (form.get('Action') ?? '') : target.slice(target.indexOf('.') + 1),
      body: form ? Object.fromEntries(form) : (JSON.parse(text || '{}') as Record<string, unknown>),
    };
    calls.push(call);
    const reply = script(call, calls.length - 1);
    const status = reply.status ?? 200;
    const type = (reply.body as { __type?: string } | undefined)?.__type;
    res.writeHead(status, {
      'content-type': 'application/x-amz-json-1.1',
      ...(type && status >= 400 ? { 'x-amzn-errortype': type } : {}),
    });
    res.end(JSON.stringify(reply.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
