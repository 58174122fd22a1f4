/**
 * `loglake local` with a fault-injecting spool (`FaultySpoolIo`), as its own process so a test can
 * kill -9 it. Prints `ready: <url>` once listening; then every line on stdin is a JSON array of
 * `SpoolFault`s to queue, acknowledged with `faults queued` on stdout.
 *
 * Usage: `faulty-local.ts <data dir>`
 */
import { createInterface } from 'node:readline';
import { DEFAULT_CONFIG } from '../../src/config';
import { LocalPipeline } from '../../src/local/pipeline';
import { startEndpoint } from '../../src/local/server';
import { dataDirTransform } from '../../src/local/transform';
import { FaultySpoolIo, type SpoolFault } from './faulty-spool';

async function main(): Promise<void> {
  const dataDir = process.argv[2] ?? '';
  if (dataDir === '') throw new Error('usage: faulty-local.ts <data dir>');
  const io = new FaultySpoolIo();
  const pipeline = await LocalPipeline.open({
    dataDir,
    transform: dataDirTransform(DEFAULT_CONFIG, dataDir),
    // Nothing is delivered before the kill: recovery has to bring it all back.
    flushIntervalMs: 900_000,
    spoolIo: io,
    onWarning: (m) => process.stderr.write(`${m}\n`),
  });
  const endpoint = await startEndpoint({ pipeline, port: 0 });
  createInterface({ input: process.stdin }).on('line', (line) => {
    io.fail(...(JSON.parse(line) as SpoolFault[]));
    process.stdout.write('faults queued\n');
  });
  process.stdout.write(`ready: ${endpoint.url}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
