/**
 * A handler of `lambdas/` deployed as a Lambda in MiniStack, for the emulator tests that drive one
 * function without a whole `cdk deploy`: bundled by esbuild (as `LogLakeFunction` bundles it, for the
 * Node the emulator runs it on), zipped, created through Lambda's REST API (no Lambda client in the
 * dependencies; MiniStack checks no signature), waited for until Active, as AWS's waiter does.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import { ROOT } from '../infra/helpers';
import { run } from '../infra/tools';
import { EMULATOR_ENDPOINT, EMULATOR_REGION } from './emulator';

const FUNCTIONS = `${EMULATOR_ENDPOINT}/2015-03-31/functions`;
const headers = {
  'content-type': 'application/json',
  authorization: `AWS4-HMAC-SHA256 Credential=test/20260101/${EMULATOR_REGION}/lambda/aws4_request, SignedHeaders=host, Signature=0`,
};

export interface DeployFunctionOptions {
  /** The function's name, unique in the emulator (tests share one). */
  readonly name: string;
  /** The handler's entry, relative to the repository (`lambdas/<fn>/index.ts`). */
  readonly entry: string;
  /** The function's environment; the emulator's endpoint, region and credentials are added. */
  readonly environment: Readonly<Record<string, string>>;
  /** Seconds one invocation may run. @default 60 */
  readonly timeoutSeconds?: number;
}

/** One invocation's outcome: the function's error type (`Unhandled`) when it threw, and its result. */
export interface Invocation {
  readonly error?: string;
  readonly result: unknown;
}

export interface DeployedFunction {
  readonly name: string;
  readonly arn: string;
  /** Invokes synchronously (RequestResponse); a function error is returned, not thrown. */
  invoke(event: unknown): Promise<Invocation>;
}

/** Deploys `entry` as the function `name` and waits until it is Active. */
export async function deployFunction(options: DeployFunctionOptions): Promise<DeployedFunction> {
  const response = await fetch(FUNCTIONS, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      FunctionName: options.name,
      Runtime: 'nodejs20.x',
      Handler: 'index.handler',
      Role: `arn:aws:iam::000000000000:role/${options.name}`,
      Code: { ZipFile: handlerZip(options.entry).toString('base64') },
      Timeout: options.timeoutSeconds ?? 60,
      Environment: {
        Variables: {
          ...options.environment,
          AWS_ENDPOINT_URL: EMULATOR_ENDPOINT,
          AWS_ACCESS_KEY_ID: 'test',
          AWS_SECRET_ACCESS_KEY: 'test',
          AWS_REGION: EMULATOR_REGION,
        },
      },
    }),
  });
  const body = (await response.json()) as { FunctionArn?: string };
  if (!response.ok || !body.FunctionArn)
    throw new Error(`CreateFunction ${options.name}: ${response.status} ${JSON.stringify(body)}`);
  await waitActive(options.name);
  const name = options.name;
  return { name, arn: body.FunctionArn, invoke: (event) => invokeFunction(name, event) };
}

/** Invokes the function `name` synchronously, as the Provider framework or a test does. */
export async function invokeFunction(name: string, event: unknown): Promise<Invocation> {
  const response = await fetch(`${FUNCTIONS}/${encodeURIComponent(name)}/invocations`, {
    method: 'POST',
    headers,
    body: JSON.stringify(event),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`Invoke ${name}: ${response.status} ${text}`);
  const error = response.headers.get('x-amz-function-error') ?? undefined;
  return { ...(error && { error }), result: text === '' ? undefined : JSON.parse(text) };
}

/** The handler bundled into one `index.js` and zipped the way Lambda takes it. */
function handlerZip(entry: string): Buffer {
  const dir = mkdtempSync(path.join(tmpdir(), 'loglake-fn-'));
  try {
    buildSync({
      entryPoints: [path.join(ROOT, entry)],
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      outfile: path.join(dir, 'index.js'),
      logLevel: 'error',
    });
    const r = run('python3', ['-m', 'zipfile', '-c', path.join(dir, 'fn.zip'), path.join(dir, 'index.js')]);
    if (r.status !== 0) throw new Error(`zip failed: ${r.stderr}`);
    return readFileSync(path.join(dir, 'fn.zip'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Polls GetFunction until the function leaves Pending: Active, or a thrown Failed with its reason. */
async function waitActive(name: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const response = await fetch(`${FUNCTIONS}/${encodeURIComponent(name)}`, { headers });
    const body = (await response.json()) as { Configuration?: { State?: string; StateReason?: string } };
    const state = body.Configuration?.State;
    if (response.ok && state === 'Active') return;
    if (!response.ok || state === 'Failed' || Date.now() > deadline)
      throw new Error(
        `GetFunction ${name}: ${response.status} ${state ?? ''} ${body.Configuration?.StateReason ?? JSON.stringify(body)}`,
      );
    await new Promise((r) => setTimeout(r, 250));
  }
}
