/**
 * The local endpoint in its own process, for `connections.bench.ts`: `endpoint-process.ts <data dir>
 * <backlog> [bare]`. Prints `ready: <url>`; on SIGTERM it stops, delivers, and prints its stats as JSON.
 * `bare` runs a plain Node HTTP server answering `{}` at once instead: the floor of what any Node
 * endpoint costs on this machine.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_CONFIG } from '../src/config';
import { LocalPipeline } from '../src/local/pipeline';
import { startEndpoint } from '../src/local/server';
import { dataDirTransform } from '../src/local/transform';

async function main(): Promise<void> {
  const [dataDir = '', backlog = '', mode] = process.argv.slice(2);
  if (mode === 'bare') {
    let answered = 0;
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        answered++;
        res.end('{}');
      });
    });
    server.listen({ port: 0, host: '127.0.0.1', backlog: Number(backlog) }, () => {
      process.stdout.write(`ready: http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
    });
    process.once('SIGTERM', () => {
      server.close(() => process.stdout.write(`${JSON.stringify({ recordsAccepted: answered })}\n`));
      server.closeAllConnections();
    });
    return;
  }
  const pipeline = await LocalPipeline.open({
    dataDir,
    transform: dataDirTransform(DEFAULT_CONFIG, dataDir),
    flushIntervalMs: 5_000,
  });
  const endpoint = await startEndpoint({ pipeline, port: 0, backlog: Number(backlog) });
  process.once('SIGTERM', () => {
    endpoint
      .close()
      .then(() => pipeline.close())
      .then(() => {
        process.stdout.write(`${JSON.stringify(pipeline.stats)}\n`);
      });
  });
  process.stdout.write(`ready: ${endpoint.url}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
