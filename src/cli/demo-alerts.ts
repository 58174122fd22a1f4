/**
 * The demo's alerting hook. `loglake demo` calls {@link showDemoAlerts} after its search, with the lake
 * it just filled; the alerting issue replaces the body with the alarm rules evaluated on DuckDB (the same
 * rules the scheduled alarm Lambda runs on Athena) and prints what would be published to SNS.
 */
import type { LogLakeConfig } from '../config';
import type { CliIO } from './query-commands';

export interface DemoContext {
  /** The local lake directory the demo delivered into. */
  readonly dataDir: string;
  readonly config: LogLakeConfig;
  /** When the demo's traffic ends: the alarm window closes here. */
  readonly now: Date;
  readonly io: CliIO;
  /** Correlation id of the sample security incident. */
  readonly incidentCorrelationId: string;
}

/** Print the alerts the sample traffic raises. */
export async function showDemoAlerts(ctx: DemoContext): Promise<void> {
  ctx.io.stdout(
    '  (alerting is not part of this build: this is where the demo will show the alarms it raises)\n',
  );
}
