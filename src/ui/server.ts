/**
 * The explorer's HTTP server (node:http, GET only). Pages are rendered on the server; the browser gets
 * HTML, SVG and one stylesheet, and no script (the Content-Security-Policy forbids every script).
 * Bound to 127.0.0.1 unless told otherwise, and answers only requests addressed to the host it listens
 * on (a web page elsewhere cannot reach it by DNS rebinding).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  AccessAuditError,
  type AccessEvent,
  type AccessScope,
  type LakeRef,
  withAccessScope,
} from '../audit/access';
import { RecordWriter } from '../cli/format';
import { ConfigError, InputError, userMessage } from '../errors';
import { MAX_LIMIT } from '../query/model';
import { DASHBOARDS, dashboardById } from './dashboards';
import type { Html } from './html';
import { errorBody, page, STYLE } from './layout';
import { alertsPage } from './pages/alerts';
import { aroundPage } from './pages/around';
import { dashboardIndex, dashboardPage } from './pages/dashboards';
import { patternsPage } from './pages/patterns';
import { DEFAULT_LIMIT, MAX_PAGE_LIMIT, searchPage } from './pages/search';
import { TAIL_REFRESH_SECONDS, tailPage } from './pages/tail';
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
  /**
   * Every query a request runs is recorded as an access event (`src/audit/access.ts`), as the CLI's
   * commands are. @default none: queries are not recorded (a library user, a unit test)
   */
  readonly access?: UiAccess;
}

/** How the explorer records its access events: a request's events are written together. */
export interface UiAccess {
  /** Who is reading and how (the CLI's scope for command `ui`). */
  readonly scope: AccessScope;
  /**
   * Write the events of one request, before its page is sent (an export: before its first byte, and
   * again before its end); a failure withholds the page (500), as a failed access event withholds a CLI
   * command's output.
   */
  readonly write: (lake: LakeRef, events: readonly AccessEvent[]) => Promise<void>;
}

/** The events of one request, by lake, until they are written. */
class PendingAccess {
  private readonly byLake = new Map<string, { lake: LakeRef; events: AccessEvent[] }>();

  constructor(private readonly access: UiAccess) {}

  /** The request's scope: the explorer's, with events held here instead of written one by one. */
  scope(): AccessScope {
    return {
      ...this.access.scope,
      sinkFor: (lake) => ({
        record: async (event) => {
          const key = JSON.stringify(lake);
          const entry = this.byLake.get(key) ?? { lake, events: [] };
          entry.events.push(event);
          this.byLake.set(key, entry);
        },
      }),
    };
  }

  async write(): Promise<void> {
    const entries = [...this.byLake.values()];
    this.byLake.clear();
    for (const { lake, events } of entries) {
      try {
        await this.access.write(lake, withoutAnsweredStarts(events));
      } catch (error) {
        throw new AccessAuditError(
          `the access events of this page could not be recorded, so it is withheld: ${
            error instanceof Error ? error.message : String(error)
          }`,
          { cause: error },
        );
      }
    }
  }
}

/**
 * The events to write, without a `started` event whose completion is written with it: a page sent
 * after all its reads ended needs one event per read (the `started` one exists for rows that leave
 * before the read ends).
 */
export function withoutAnsweredStarts(events: readonly AccessEvent[]): AccessEvent[] {
  const ended = new Set(events.filter((e) => e.outcome !== 'started' && e.id).map((e) => e.id));
  return events.filter((e) => !(e.outcome === 'started' && ended.has(e.id)));
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
  /** Where the refresh goes. @default the same address */
  readonly refreshUrl?: string;
}

type Handler = (
  url: URL,
  log: QueryLog[],
  res: ServerResponse,
  /** Writes the request's access events (before a streamed response ends). */
  flushAccess: () => Promise<void>,
) => Promise<Rendered | undefined>;

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
    const pending = options.access ? new PendingAccess(options.access) : undefined;
    // Each request runs in its own scope: an HTTP callback does not inherit the caller's context.
    const run = () => handle(req, res, routes, options, pending);
    (pending ? withAccessScope(pending.scope(), run) : run()).catch((error: unknown) => {
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
    '/patterns': async (url, log) => {
      const query = parseUiQuery(url.searchParams);
      return { title: 'Patterns', nav: '/', body: await patternsPage(source, query, log) };
    },
    '/tail': async (url, log) => {
      const query = parseUiQuery(url.searchParams, {}, ['from']);
      const from = url.searchParams.get('from')?.trim() || undefined;
      const view = await tailPage(source, query, from, log);
      return {
        title: 'Live tail',
        nav: '/',
        body: view.body,
        refreshSeconds: TAIL_REFRESH_SECONDS,
        refreshUrl: view.refreshUrl,
      };
    },
    '/around': async (url, log) => ({
      title: 'Events around',
      nav: '/',
      body: await aroundPage(source, url.searchParams, log),
    }),
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
      const accepted = ['id', 'since', 'until', 'range', ...(d.serviceFilter ? ['service'] : [])];
      for (const name of url.searchParams.keys()) {
        if (!accepted.includes(name))
          throw new InputError(`unknown parameter ${JSON.stringify(name)}; expected ${accepted.join(', ')}`);
      }
      const query = parseUiQuery(url.searchParams);
      return {
        title: d.title,
        nav: '/dashboards',
        body: await dashboardPage(source, d, query, log),
        ...(d.refreshSeconds ? { refreshSeconds: d.refreshSeconds } : {}),
      };
    },
    '/alerts': async () => ({ title: 'Alerts', nav: '/alerts', body: await alertsPage(source) }),
    '/export': async (url, _log, res, flushAccess) => {
      await exportResult(source, url, res, flushAccess);
      return undefined;
    },
  };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  routes: Record<string, Handler>,
  options: UiServerOptions,
  pending?: PendingAccess,
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
  if (!ownRequest(req)) {
    return send(
      res,
      403,
      'text/plain',
      'requests made by another site are refused; open the explorer itself\n',
    );
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
  const flushAccess = async () => {
    await pending?.write();
  };
  let rendered: Rendered | undefined;
  try {
    try {
      rendered = await route(url, log, res, flushAccess);
    } finally {
      // Failed queries are recorded too; a page is sent only once its reads are.
      await flushAccess();
    }
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
    return;
  }
  if (rendered === undefined) return;
  send(res, 200, 'text/html', page({ ...rendered, dataDir, queries: log }));
}

/**
 * Whether a request comes from the explorer itself, an address the user typed, a bookmark or a link
 * followed (Fetch Metadata). A GET changes no data, but each one runs queries (Athena bills
 * them) and writes access events in the user's name: a page elsewhere (or another server on this host,
 * the same site) must not make the browser do that unseen, with an image, a script or a fetch.
 * Clients that send no such headers (curl, older browsers) are served.
 */
function ownRequest(req: IncomingMessage): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site === undefined || site === 'same-origin' || site === 'none') return true;
  return req.headers['sec-fetch-mode'] === 'navigate' && req.headers['sec-fetch-dest'] === 'document';
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
async function exportResult(
  source: UiSource,
  url: URL,
  res: ServerResponse,
  flushAccess: () => Promise<void>,
): Promise<void> {
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
  const start = () => {
    started = true;
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': `${EXPORT_TYPES[format]}; charset=utf-8`,
      'content-disposition': `attachment; filename="loglake-${stamp}.${format}"`,
    });
  };
  const writer = new RecordWriter(format, async (text) => {
    if (!started) {
      // Nothing leaves before the read is recorded: its started event (or, for one page, its end).
      await flushAccess();
      start();
    }
    if (!res.write(text)) await new Promise((r) => res.once('drain', r));
  });
  for await (const records of pages) await writer.write(records);
  await writer.end();
  // The read is recorded before the download completes; if it cannot be, the download ends broken.
  await flushAccess();
  if (!started) start();
  res.end();
}
