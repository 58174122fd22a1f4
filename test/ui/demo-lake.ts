/** A lake filled by the real demo (shipper → local endpoint → transform → Parquet), for the explorer's tests. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDemo } from '../../src/cli/commands/demo';

export interface DemoLake {
  readonly dataDir: string;
  /** The demo's printed output (it names the incident's correlation id). */
  readonly output: string;
  readonly incidentCorrelationId: string;
}

export async function demoLake(): Promise<DemoLake> {
  const dataDir = join(mkdtempSync(join(tmpdir(), 'loglake-ui-')), 'lake');
  let output = '';
  const write = (t: string) => {
    output += t;
  };
  await runDemo({ dataDir, ui: false }, { stdout: write, stderr: write, isTTY: false, columns: 120 });
  const id = /--correlation-id (inc-[0-9a-f]+)/.exec(output)?.[1];
  if (!id) throw new Error(`the demo did not name its incident:\n${output}`);
  return { dataDir, output, incidentCorrelationId: id };
}
