/**
 * The explorer's HTTP server (node:http, GET only). Pages are rendered on the server; the browser gets
 * HTML, SVG and one stylesheet, and no script (the Content-Security-Policy forbids every script).
 * Bound to 127.0.0.1 unless told otherwise, and answers only requests addressed to the host it listens
 * on (a web page elsewhere cannot reach it by DNS rebinding).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RecordWriter } from '../cli/format';
import { userMessage } from '../cli/main';
import { ConfigError, InputError } from '../errors';
import { MAX_LIMIT } from '../query/model';
import { DASHBOARDS, dashboardById } from './dashboards';
import type { Html } from './html';
import { errorBody, page, STYLE } from './layout';
import { alertsPage } from './pages/alerts';
import { dashboardIndex, dashboardPage } from './pages/dashboards';
import { DEFAULT_LIMIT, MAX_PAGE_LIMIT, searchPage } from './pages/search';
import { tracePage } from './pages/trace';
import { limitParam, parseUiQuery } from './params';
import type { QueryLog, UiSource } from './source';

export interface UiServerOptions {
  readonly source: UiSource;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** Reports a failed request (500) for the operator. @default nothing */
  readonly onError?: (error: unknown) => void;
}

export interface UiServer {
  readonly url: string;
  close(): Promise<void>;
}

/** A rendered page: its title, navigation entry and body. */
export interface Rendered {
  readonly title: string;
  readonly nav: string;
  readonly body: Html;
  readonly refreshSeconds?: number;
}

type Handler = (url: URL, log: QueryLog[], res: ServerResponse) => Promise<Rendered | undefined>;

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
} as const;

export async function startUiServer(options: UiServerOptions): Promise<UiServer> {
  const host = options.host ?? '127.0.0.1';
  const routes = uiRoutes(options.source);
  const server: Server = createServer((req, res) => {
    handle(req, res, routes, options).catch((error: unknown) => {
      options.onError?.(error);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function uiRoutes(source: UiSource): Record<string, Handler> {
  return {
    '/': async (url, log) => {
      const query = parseUiQuery(url.searchParams);
      const limit = limitParam(url.searchParams, DEFAULT_LIMIT, MAX_PAGE_LIMIT);
      return { title: 'Search', nav: '/', body: await searchPage(source, query, limit, log) };
    },
    '/trace': async (url, log) => {
      const id = url.searchParams.get('id')?.trim() || undefined;
      const query = parseUiQuery(url.searchParams);
      return {
        title: id ? `Trace ${id}` : 'Trace',
        nav: '/trace',
        body: await tracePage(source, id, query, log),
      };
    },
    '/dashboards': async () => ({ title: 'Dashboards', nav: '/dashboards', body: dashboardIndex() }),
    '/dashboard': async (url, log) => {
      const id = url.searchParams.get('id') ?? '';
      const d = dashboardById(id);
      if (d === undefined) {
        throw new InputError(
          `id: no dashboard ${JSON.stringify(id)}; expected one of ${DASHBOARDS.map((x) => x.id).join(', ')}`,
        );
      }
      for (const name of url.searchParams.keys()) {
        if (name !== 'id' && name !== 'since')
          throw new InputError(`unknown parameter ${JSON.stringify(name)}; expected id, since`);
      }
      const since = url.searchParams.get('since')?.trim() || undefined;
      return {
        title: d.title,
        nav: '/dashboards',
        body: await dashboardPage(source, d, since, log),
        ...(d.refreshSeconds ? { refreshSeconds: d.refreshSeconds } : {}),
      };
    },
    '/alerts': async () => ({ title: 'Alerts', nav: '/alerts', body: await alertsPage(source) }),
    '/export': async (url, _log, res) => {
      await exportResult(source, url, res);
      return undefined;
    },
  };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  routes: Record<string, Handler>,
  options: UiServerOptions,
): Promise<void> {
  const local = req.socket.localPort;
  const allowed = [
    `127.0.0.1:${local}`,
    `localhost:${local}`,
    `[::1]:${local}`,
    `${options.host ?? '127.0.0.1'}:${local}`,
  ];
  if (!allowed.includes(req.headers.host ?? '')) {
    return send(res, 421, 'text/plain', `requests must be addressed to this server (Host ${allowed[0]})\n`);
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    return send(res, 405, 'text/plain', 'only GET and HEAD\n');
  }
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname === '/style.css') {
    return send(res, 200, 'text/css', STYLE, { 'cache-control': 'max-age=300' });
  }
  const route = routes[url.pathname];
  const dataDir = options.source.options.dataDir;
  if (route === undefined) {
    return send(
      res,
      404,
      'text/html',
      page({ title: 'Not found', nav: '', dataDir, body: errorBody(404, `no page at ${url.pathname}`) }),
    );
  }
  const log: QueryLog[] = [];
  try {
    const rendered = await route(url, log, res);
    if (rendered === undefined) return;
    send(res, 200, 'text/html', page({ ...rendered, dataDir, queries: log }));
  } catch (error) {
    if (res.headersSent) {
      // A stream (export) failed midway: end it broken rather than complete-looking.
      options.onError?.(error);
      res.destroy(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    const bad = error instanceof InputError || error instanceof ConfigError;
    if (!bad) options.onError?.(error);
    const status = bad ? 400 : 500;
    send(
      res,
      status,
      'text/html',
      page({ title: 'Error', nav: '', dataDir, body: errorBody(status, userMessage(error)) }),
    );
  }
}

function send(
  res: ServerResponse,
  status: number,
  type: string,
  body: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': `${type}; charset=utf-8`, ...headers });
  res.end(body);
}

const EXPORT_TYPES = { csv: 'text/csv', ndjson: 'application/x-ndjson' } as const;

/** Every record of the search, oldest first, streamed as `loglake export` writes it. */
async function exportResult(source: UiSource, url: URL, res: ServerResponse): Promise<void> {
  const format = url.searchParams.get('format') ?? 'csv';
  if (format !== 'csv' && format !== 'ndjson') {
    throw new InputError(`format: expected csv or ndjson (received ${JSON.stringify(format)})`);
  }
  const query = parseUiQuery(url.searchParams);
  const limit = limitParam(url.searchParams, MAX_LIMIT, MAX_LIMIT);
  const filter = await source.filter(query.text, query.flags);
  const pages = source.stream({ kind: 'search', filter, order: 'asc', limit });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  let started = false;
  const writer = new RecordWriter(format, async (text) => {
    if (!started) {
      started = true;
      res.writeHead(200, {
        ...SECURITY_HEADERS,
        'content-type': `${EXPORT_TYPES[format]}; charset=utf-8`,
        'content-disposition': `attachment; filename="loglake-${stamp}.${format}"`,
      });
    }
    if (!res.write(text)) await new Promise((r) => res.once('drain', r));
  });
  for await (const records of pages) await writer.write(records);
  await writer.end();
  if (!started) {
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': `${EXPORT_TYPES[format]}; charset=utf-8`,
      'content-disposition': `attachment; filename="loglake-${stamp}.${format}"`,
    });
  }
  res.end();
}
