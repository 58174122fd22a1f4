/**
 * The CLI's access scope: every query a command runs is recorded as an access event
 * (`src/audit/access.ts`), into the local lake it read, or for Athena through the deployment's access
 * recorder (`src/audit/recorder-client.ts`: a signed request to its function URL, which writes the event
 * as the verified caller). A stack deployed before the recorder has no `AccessRecorderUrl` output: the
 * event is then put on its audit stream directly, with a warning. Commands add what they know with
 * {@link describeCliAccess} (the config, the persona, the recorder and the audit stream from the stack's
 * outputs).
 */
import { hostname, userInfo } from 'node:os';
import {
  type AccessEvent,
  type AccessScope,
  type AccessSink,
  describeAccess,
  type LakeRef,
} from '../audit/access';
// Types only: the config module (and zod) loads when the first event is recorded, not at start-up.
import type { LogLakeConfig } from '../config';
import type { PrivacyRequest } from '../privacy/audit';
import type { Persona } from '../schema';

/** Where a stack takes the CLI's audit events: its access recorder, or (an older stack) its audit stream. */
export interface AuditDestination {
  readonly region: string | undefined;
  /** The access recorder's function URL (stack output `AccessRecorderUrl`). */
  readonly accessRecorderUrl?: string | undefined;
  /** The audit delivery stream, written directly only when there is no recorder. */
  readonly auditStream?: string | undefined;
}

/** What the CLI needs beyond the generic scope: the config (for the local transform) and the audit stream. */
interface CliAccessState {
  /** The command's config; the defaults when it loaded none. */
  config?: LogLakeConfig;
  auditStream?: { readonly name: string; readonly region: string | undefined };
  recorder?: { readonly url: string; readonly region: string | undefined };
}

const state = new WeakMap<AccessScope, CliAccessState>();

/** The OS user and host: who ran a local query. */
export function localPrincipal(): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry (a container's arbitrary uid): the host still says where it ran.
  }
  return `${user}@${hostname()}`;
}

/** A scope for one CLI run of `command`. */
export function cliAccessScope(command: string): AccessScope {
  let principal: Promise<string> | undefined;
  let awsPrincipal: Promise<string> | undefined;
  const scope: AccessScope = {
    principal: () => {
      const cli = state.get(scope);
      const aws = cli?.recorder ?? cli?.auditStream;
      if (aws) {
        // The recorder writes the principal it verified; this is the claim it is compared with.
        awsPrincipal ??= callerIdentity(aws.region);
        return awsPrincipal;
      }
      principal ??= Promise.resolve(localPrincipal());
      return principal;
    },
    command,
    settings: async () => {
      const { lockedCategories } = await import('../config');
      const config = await configOf(scope);
      return {
        bulkReadRows: config.accessAudit.bulkReadRows,
        lockedCategories: lockedCategories(config),
        disabled: !config.accessAudit.enabled,
      };
    },
    sinkFor: (lake) => {
      const cli = state.get(scope) ?? {};
      if (lake.engine === 'duckdb') return lazyLocalSink(lake, () => configOf(scope));
      if (cli.recorder) return recorderSink(cli.recorder.url, cli.recorder.region);
      if (!cli.auditStream) {
        return {
          record: async () => {
            throw new Error(
              'no audit stream is known for this Athena query: pass --stack <name> (or set LOGLAKE_STACK), whose outputs name it, or --audit-stream <name>',
            );
          },
        };
      }
      warnDirectWrite(cli.auditStream.name);
      return firehoseSink(cli.auditStream.name, cli.auditStream.region);
    },
  };
  state.set(scope, {});
  return scope;
}

async function configOf(scope: AccessScope): Promise<LogLakeConfig> {
  const config = state.get(scope)?.config;
  return config ?? (await import('../config')).DEFAULT_CONFIG;
}

/** Tell the running scope the command's config, persona and (Athena) audit stream. */
export function describeCliAccess(
  scope: AccessScope | undefined,
  update: {
    config?: LogLakeConfig;
    persona?: Persona;
    auditStream?: { readonly name: string; readonly region: string | undefined };
    /** Where the Athena target's stack takes audit events; its recorder wins over its stream. */
    audit?: AuditDestination;
  },
): void {
  if (!scope) return;
  const cli = state.get(scope);
  if (!cli) return;
  if (update.config) cli.config = update.config;
  if (update.persona) describeAccess({ persona: update.persona });
  if (update.auditStream) cli.auditStream = update.auditStream;
  const audit = update.audit;
  if (audit?.auditStream) cli.auditStream = { name: audit.auditStream, region: audit.region };
  if (audit?.accessRecorderUrl) cli.recorder = { url: audit.accessRecorderUrl, region: audit.region };
}

function lazyLocalSink(
  lake: Extract<LakeRef, { engine: 'duckdb' }>,
  config: () => Promise<LogLakeConfig>,
): AccessSink {
  return {
    record: async (event: AccessEvent) => {
      const { LocalAccessSink } = await import('../audit/local-sink');
      await new LocalAccessSink(lake.dataDir, await config(), lake.instance).record(event);
    },
  };
}

/**
 * Records a subject request's event on the deployed lake: through the access recorder, or on an older
 * stack on its audit stream directly (with a warning).
 * @throws InputError when the stack names neither
 */
export async function recordPrivacyOnAws(audit: AuditDestination, request: PrivacyRequest): Promise<void> {
  if (audit.accessRecorderUrl) {
    await (await recorderClient(audit.accessRecorderUrl, audit.region)).recordPrivacy(request);
    return;
  }
  if (!audit.auditStream) {
    const { InputError } = await import('../errors');
    throw new InputError('the subject request needs the audit stream: pass --stack <name>');
  }
  warnDirectWrite(audit.auditStream);
  const [{ FirehoseClient }, { putAuditEvent }, { privacyLogEvent }] = await Promise.all([
    import('@aws-sdk/client-firehose'),
    import('../privacy/aws-erasures'),
    import('../privacy/audit'),
  ]);
  const client = new FirehoseClient(audit.region ? { region: audit.region } : {});
  try {
    await putAuditEvent(client, audit.auditStream, privacyLogEvent(request));
  } finally {
    client.destroy();
  }
}

const warned = new Set<string>();

/** Once per stream and run: the direct write works only for roles that may still put on the stream. */
function warnDirectWrite(stream: string): void {
  if (warned.has(stream)) return;
  warned.add(stream);
  process.stderr.write(
    `loglake: warning: no access recorder is known (the stack has no AccessRecorderUrl output: deployed before it, or --audit-stream without --stack); writing audit events to ${stream} directly with your own credentials\n`,
  );
}

const recorders = new Map<string, Promise<import('../audit/recorder-client').RecorderClient>>();

/** One client per recorder URL and run, with the SDK's default credential chain (as every other AWS call). */
function recorderClient(
  url: string,
  region: string | undefined,
): Promise<import('../audit/recorder-client').RecorderClient> {
  let client = recorders.get(url);
  if (!client) {
    client = (async () => {
      const [{ RecorderClient }, { defaultProvider }] = await Promise.all([
        import('../audit/recorder-client'),
        import('@aws-sdk/credential-provider-node'),
      ]);
      return new RecorderClient({ url, region, credentials: defaultProvider() });
    })();
    recorders.set(url, client);
  }
  return client;
}

/** The event sent to the access recorder, which writes it as the caller it verified. */
function recorderSink(url: string, region: string | undefined): AccessSink {
  return {
    record: async (event) => (await recorderClient(url, region)).accessSink().record(event),
  };
}

/** The event as a raw record on the audit stream: the transform Lambda normalizes it like any producer's. */
function firehoseSink(stream: string, region: string | undefined): AccessSink {
  return {
    record: async (event) => {
      const [{ FirehoseClient }, { FirehoseAccessSink }] = await Promise.all([
        import('@aws-sdk/client-firehose'),
        import('../audit/firehose-sink'),
      ]);
      const client = new FirehoseClient(region ? { region } : {});
      try {
        await new FirehoseAccessSink(client, stream).record(event);
      } finally {
        client.destroy();
      }
    },
  };
}

/** The IAM principal running the CLI (STS GetCallerIdentity); the local user when STS cannot say. */
export async function callerIdentity(region: string | undefined): Promise<string> {
  const { GetCallerIdentityCommand, STSClient } = await import('@aws-sdk/client-sts');
  const client = new STSClient(region ? { region } : {});
  try {
    const { Arn } = await client.send(new GetCallerIdentityCommand({}));
    return Arn ?? localPrincipal();
  } catch (error) {
    // The event is still worth more than a refused query: CloudTrail has the call's identity too.
    return `${localPrincipal()} (AWS identity unresolved: ${error instanceof Error ? error.message : String(error)})`;
  }
}
