/**
 * The CLI's access scope: every query a command runs is recorded as an access event
 * (`src/audit/access.ts`), into the local lake it read, or through the deployment's audit stream for
 * Athena. Commands add what they know with {@link describeCliAccess} (the config, the persona, the audit
 * stream from the stack's outputs).
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
import type { Persona } from '../schema';

/** What the CLI needs beyond the generic scope: the config (for the local transform) and the audit stream. */
interface CliAccessState {
  /** The command's config; the defaults when it loaded none. */
  config?: LogLakeConfig;
  auditStream?: { readonly name: string; readonly region: string | undefined };
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
      if (cli?.auditStream) {
        awsPrincipal ??= callerIdentity(cli.auditStream.region);
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
      if (!cli.auditStream) {
        return {
          record: async () => {
            throw new Error(
              'no audit stream is known for this Athena query: pass --stack <name> (or set LOGLAKE_STACK), whose outputs name it, or --audit-stream <name>',
            );
          },
        };
      }
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
  },
): void {
  if (!scope) return;
  const cli = state.get(scope);
  if (!cli) return;
  if (update.config) cli.config = update.config;
  if (update.persona) describeAccess({ persona: update.persona });
  if (update.auditStream) cli.auditStream = update.auditStream;
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
