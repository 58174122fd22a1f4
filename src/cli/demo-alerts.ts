/**
 * The demo's alerting hook: `loglake demo` calls {@link showDemoAlerts} after its search, with the lake it
 * just filled. It runs the alert rules over the local lake with DuckDB (the same rules the scheduled
 * alarm Lambda runs on Athena, `src/alerts`) and prints what fires.
 */
import type { LogLakeConfig } from '../config';
import { showDemoAlerts as evaluateDemoAlerts } from './commands/alerts';
import type { CliIO } from './io';

export interface DemoContext {
  /** The local lake directory the demo delivered into. */
  readonly dataDir: string;
  /** Shown in the printed command (relative when possible). */
  readonly shownDataDir: string;
  readonly config: LogLakeConfig;
  /** When the demo's traffic ends: the alarm window closes here. */
  readonly now: Date;
  readonly io: CliIO;
  /** Correlation id of the sample security incident. */
  readonly incidentCorrelationId: string;
  /** Printed before the first line (the demo's step number). */
  readonly heading: string;
}

/** Print the alerts the sample traffic raises; resolves with how many fired. */
export async function showDemoAlerts(ctx: DemoContext): Promise<number> {
  let text = '';
  const alerts = await evaluateDemoAlerts(
    ctx.dataDir,
    ctx.config,
    (t) => {
      text += t;
    },
    ctx.now,
    ctx.io.columns,
  );
  ctx.io.stdout(ctx.heading + text.replace(/^\n+/, '').replaceAll(ctx.dataDir, ctx.shownDataDir));
  return alerts.length;
}
