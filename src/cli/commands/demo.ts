/**
 * `loglake demo` (`npm start`): the whole local pipeline end to end with sample traffic, no AWS account:
 * the shipper → the real `@aws-sdk/client-firehose` → the local endpoint → the transform → Parquet →
 * a search showing redacted results, stats, and the alerts.
 */
import { rmSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import type { LogLakeConfig } from '../../config';
import { sampleTraffic } from '../../local/sample-traffic';
import { firehoseClientConfig } from '../../producer/client-config';
import { billedBytes } from '../../producer/pack';
import { Shipper } from '../../producer/shipper';
import type { SearchRecord } from '../../query/decode';
import { STREAMS, type StreamName } from '../../schema';
import { quietSdkNodeVersionWarning } from '../env';
import { parseFlags } from '../flags';
import { formatBytes } from '../format';
import { type CliIO, processIO } from '../io';
import { intOption } from '../options';
import { showDemoAlerts as evaluateDemoAlerts } from './alerts';
import { startLocal } from './local';
import { searchCommand } from './search';
import { statsCommand } from './stats';

export const demoFlags = z.strictObject({
  dataDir: z.string().optional(),
  /** After the demo, serve the explorer over its lake until Ctrl-C. @default true */
  ui: z.boolean().optional(),
  /** Port of the explorer. @default DEFAULT_UI_PORT, or a free one when that is taken */
  uiPort: z.number().int().min(0).max(65_535).optional(),
});
export type DemoFlags = z.output<typeof demoFlags>;

/** How many sample events the demo ships. */
const DEMO_EVENTS = 400;

/** Default data directory of the demo; wiped at every start. */
export const DEMO_DATA_DIR = '.loglake/demo';

export async function runDemo(flags: DemoFlags = {}, io: CliIO = processIO): Promise<void> {
  quietSdkNodeVersionWarning();
  const dataDir = resolve(flags.dataDir ?? DEMO_DATA_DIR);
  const shown = relative(process.cwd(), dataDir) || '.';
  rmSync(dataDir, { recursive: true, force: true });
  const say = (text = '') => io.stdout(`${text}\n`);

  say('loglake demo: the local pipeline end to end (no AWS account, no Docker)');
  say();
  const local = await startLocal({ dataDir, port: 0, flushSeconds: 1, quiet: true }, io);
  try {
    say(
      `1. Local pipeline ready: Firehose API at ${local.endpoint.url} (streams logs, audit), lake in ${shown}/`,
    );

    const now = new Date();
    const traffic = sampleTraffic(now, DEMO_EVENTS);
    const shippers = Object.fromEntries(
      STREAMS.map((s) => [
        s,
        new Shipper({ streamName: s, clientConfig: firehoseClientConfig({ endpoint: local.endpoint.url }) }),
      ]),
    ) as Record<StreamName, Shipper>;
    const services = new Set(traffic.events.map((e) => e.service));
    for (const e of traffic.events) await shippers[e.stream].write(e.line);
    const counters = await Promise.all(STREAMS.map((s) => shippers[s].close()));
    const sent = counters.reduce(
      (a, c) => ({
        lines: a.lines + c.linesSent,
        records: a.records + c.recordsSent,
        bytes: a.bytes + c.bytesSent,
        billed: a.billed + c.billedBytes,
      }),
      { lines: 0, records: 0, bytes: 0, billed: 0 },
    );
    const unpacked = traffic.events.reduce((s, e) => s + billedBytes(Buffer.byteLength(e.line) + 1), 0);
    say(
      `2. Shipped ${sent.lines} events from ${services.size} services with the loglake shipper over the real AWS SDK:\n` +
        `   ${sent.records} Firehose records, ${formatBytes(sent.bytes)} raw, billed ${formatBytes(sent.billed)} ` +
        `(${(sent.billed / sent.bytes).toFixed(2)}x; one record per event would bill ${formatBytes(unpacked)}, ${(unpacked / sent.bytes).toFixed(1)}x)`,
    );

    await local.pipeline.flush();
    const s = local.pipeline.stats;
    say(
      `3. Delivered ${s.events} normalized, redacted events as Parquet under ${shown}/logs/category=…/dt=…/hour=…/` +
        `${s.processingFailed + s.conversionFailed > 0 ? ` (${s.processingFailed + s.conversionFailed} records under errors/)` : ''}`,
    );
    say();
    say(`4. The security incident, found by its correlation id:`);
    say(
      `   $ loglake search --correlation-id ${traffic.incidentCorrelationId} --data-dir ${shown} --order asc`,
    );
    const records: SearchRecord[] = [];
    await searchCommand(
      undefined,
      { dataDir, correlationId: traffic.incidentCorrelationId, since: '1h', order: 'asc', limit: 100 },
      indent(io),
      (r) => records.push(r),
    );
    const lake = JSON.stringify(records);
    const leaked = traffic.secrets.filter((secret) => lake.includes(secret));
    say(
      `   ${records.length} events; secrets and personal data removed before storage ` +
        `(${leaked.length === 0 ? 'none of the planted secrets, emails, card numbers or IPs is in the lake' : `LEAKED: ${leaked.join(', ')}`}).`,
    );
    const sample = records.find((r) => r.http_path !== null) ?? records[0];
    if (sample) {
      say('   One of them in full (--format json):');
      say(indentText(JSON.stringify(sample, null, 2), '     '));
    }
    say();
    say(`5. Events per category:  $ loglake stats --group-by category --data-dir ${shown}`);
    await statsCommand({ dataDir, groupBy: ['category'], since: '1h' }, indent(io));
    say();
    await showDemoAlerts({
      heading: '6. ',
      dataDir,
      shownDataDir: shown,
      config: local.config,
      now: new Date(),
      io,
    });
    say('\nTry it yourself:');
    say(`  npx loglake search "login failed" --data-dir ${shown} --since 1h`);
    say(
      `  npx loglake search --user ${traffic.incidentUserId} --data-dir ${shown} --since 1h   # raw id, pseudonymized before the query`,
    );
    say('  npx loglake local   # then point any Firehose client at http://127.0.0.1:4573');
    if (leaked.length > 0) process.exitCode = 1;
  } finally {
    await local.stop();
  }
  if (flags.ui === false) return;
  const { startUiBeside, serveUntilSignal } = await import('./ui');
  // Another explorer (or anything) holding the default port: a free one rather than a failed demo.
  const ui = await startUiBeside(
    { dataDir, ...(flags.uiPort === undefined ? {} : { port: flags.uiPort }) },
    io,
  );
  await serveUntilSignal(ui, () => {
    say();
    say(`7. Explore it in a browser: ${ui.url}  (search, trace view, dashboards, alerts; Ctrl-C to stop)`);
  });
  say('loglake demo: explorer stopped.');
}

/**
 * The alerts the sample traffic raises: the alert rules over the lake just filled, with DuckDB (the same
 * rules the scheduled alarm Lambda runs on Athena, `src/alerts`). Resolves with how many fired.
 */
async function showDemoAlerts(ctx: {
  /** The local lake directory the demo delivered into. */
  readonly dataDir: string;
  /** Shown in the printed command (relative when possible). */
  readonly shownDataDir: string;
  readonly config: LogLakeConfig;
  /** When the demo's traffic ends: the alarm window closes here. */
  readonly now: Date;
  readonly io: CliIO;
  /** Printed before the first line (the demo's step number). */
  readonly heading: string;
}): Promise<number> {
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

function indent(io: CliIO): CliIO {
  return {
    ...io,
    stdout: (t) => io.stdout(`${indentText(t.replace(/\n$/, ''), '   ')}\n`),
    columns: io.columns ? io.columns - 3 : undefined,
  };
}

function indentText(text: string, prefix: string): string {
  return text
    .split('\n')
    .map((l) => prefix + l)
    .join('\n');
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description(
      'run the local pipeline with sample traffic, then search and summarize it (what `npm start` runs)',
    )
    .option('--data-dir <dir>', 'where the demo lake goes (wiped first)', DEMO_DATA_DIR)
    .option('--no-ui', 'exit when the demo is done instead of serving the explorer (tests, CI)')
    .option(
      '--ui-port <n>',
      'port of the explorer (default 4574, or a free one when taken)',
      intOption(0, 65_535),
    )
    .action(async (raw: unknown) => {
      await runDemo(parseFlags(demoFlags, raw));
    });
}
