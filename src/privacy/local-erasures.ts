/**
 * Who carries out scheduled erasures locally: every `loglake subject …` run and, while it runs,
 * `loglake local` (at start and once a minute). Each due request has its key destroyed, an `erase`
 * event recorded in the lake's `audit` category, and is then marked done (`runDueErasures`).
 */
import { LocalAccessSink } from '../audit/local-sink';
import type { LogLakeConfig } from '../config';
import { scheduledEraseEvent } from './audit';
import { describePurge, PurgeDeferredError, purgeLocalSubject } from './local-purge';
import { LocalSubjectRequestStore } from './local-requests';
import { LocalSubjectKeyStore } from './local-store';
import { NOTHING_TO_PURGE } from './purge';
import { type ErasureDone, runDueErasures } from './requests';

/** How often a running `loglake local` looks for due erasures. */
export const LOCAL_ERASURE_INTERVAL_MS = 60_000;

/**
 * Carries out the due scheduled erasures of a local lake.
 * @param executor - who runs them (recorded in the request and the audit event)
 */
export async function runLocalDueErasures(
  dataDir: string,
  config: LogLakeConfig,
  executor: string,
  now: () => number = Date.now,
): Promise<ErasureDone[]> {
  const store = LocalSubjectKeyStore.forDataDir(dataDir);
  const sink = new LocalAccessSink(dataDir, config);
  const by = `${executor} (scheduled erasure)`;
  return runDueErasures({
    keys: store,
    requests: LocalSubjectRequestStore.forDataDir(dataDir),
    executor: by,
    now,
    purge: async (request) => {
      if (request.pseudonym === undefined) {
        return NOTHING_TO_PURGE;
      }
      try {
        return describePurge(await purgeLocalSubject(dataDir, config, request.pseudonym));
      } catch (error) {
        // `loglake local` (this process or another) holds the data directory: the next run without it does it.
        if (error instanceof PurgeDeferredError) return undefined;
        throw error;
      }
    },
    record: (request, destroyed, purged) =>
      sink.recordLogEvent(
        scheduledEraseEvent({
          time: new Date(now()).toISOString(),
          by,
          store: store.location,
          request,
          destroyed,
          purged,
        }),
      ),
  });
}
