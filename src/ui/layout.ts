/** The page frame every explorer page shares: navigation, a skip link, and the stylesheet. */
import { type Html, html } from './html';
import type { QueryLog } from './source';

export const NAV = [
  { href: '/', label: 'Search' },
  { href: '/trace', label: 'Trace' },
  { href: '/dashboards', label: 'Dashboards' },
  { href: '/alerts', label: 'Alerts' },
] as const;

export interface PageOptions {
  readonly title: string;
  /** Which navigation entry is current. */
  readonly nav: string;
  readonly body: Html;
  /** Reload the page every this many seconds (dashboards). */
  readonly refreshSeconds?: number;
  /** Where the refresh goes (a live tail keeps its start). @default the same address */
  readonly refreshUrl?: string;
  /** The queries the page ran, listed at its foot. */
  readonly queries?: readonly QueryLog[];
  readonly dataDir: string;
}

export function page(o: PageOptions): string {
  const queryMs = (o.queries ?? []).reduce((s, q) => s + q.ms, 0);
  return `<!doctype html>\n${html`<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${o.refreshSeconds ? html`<meta http-equiv="refresh" content="${o.refreshSeconds}${o.refreshUrl ? `; url=${o.refreshUrl}` : ''}">` : ''}
<title>${o.title} · loglake explorer</title>
<link rel="stylesheet" href="/style.css">
</head><body>
<a class="skip" href="#main">Skip to content</a>
<header><nav aria-label="Main"><strong>loglake</strong>
${NAV.map((n) => html`<a href="${n.href}"${n.href === o.nav ? html` aria-current="page"` : ''}>${n.label}</a>`)}
<span class="lake">lake: ${o.dataDir}</span></nav></header>
<main id="main" tabindex="-1">${o.body}</main>
<footer>${o.queries?.length ? html`<details><summary>${o.queries.length} quer${o.queries.length === 1 ? 'y' : 'ies'} in ${queryMs.toFixed(0)} ms (built by src/query, values bound as parameters)</summary>${o.queries.map((q) => html`<pre>${q.sql}\n-- params: ${JSON.stringify(q.params)} · ${q.rows} rows · ${q.ms.toFixed(1)} ms</pre>`)}</details>` : ''}</footer>
</body></html>`}`;
}

/** An error page body: what was wrong, in words, and a way back. */
export function errorBody(status: number, message: string): Html {
  return html`<h1>${status === 400 ? 'That request cannot be answered' : status === 404 ? 'Not found' : 'Something failed'}</h1>
<p class="error" role="alert">${message}</p><p><a href="/">Back to search</a></p>`;
}

export const STYLE = `
:root{font-family:system-ui,sans-serif;font-size:14px;color:#1b1b1b;background:#fff}
body{margin:0}a{color:#0b5cad}a:focus,button:focus,summary:focus,input:focus,select:focus{outline:3px solid #E69F00;outline-offset:1px}
.skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:#fff;padding:4px;z-index:2}
header nav{display:flex;gap:16px;align-items:center;padding:8px 16px;background:#12263a;color:#fff}
header nav a{color:#fff;text-decoration:none}header nav a[aria-current=page]{text-decoration:underline;font-weight:600}
.lake{margin-left:auto;opacity:.7;font-size:12px}
main{padding:12px 16px}h1{font-size:20px;margin:4px 0 12px}h2{font-size:16px;margin:12px 0 6px}
form.query{display:flex;flex-wrap:wrap;gap:8px 12px;align-items:flex-end;margin-bottom:8px}
form.query label{display:flex;flex-direction:column;font-size:12px;gap:2px}
form.query fieldset{display:flex;gap:8px;align-items:center;margin:0;padding:2px 8px}form.query fieldset label{flex-direction:row;align-items:center;gap:3px}
form.query input{padding:4px 6px;font-size:14px}form.query input[name=q]{width:22em}
button{padding:5px 12px;font-size:14px;cursor:pointer}
.layout{display:grid;grid-template-columns:240px 1fr;gap:16px}
aside h2{font-size:13px;text-transform:uppercase;color:#555}aside ul{list-style:none;padding:0;margin:0 0 8px}
aside li{display:flex;justify-content:space-between;gap:6px;font-size:13px;padding:1px 0}
.chips a{display:inline-block;background:#eef3f8;border-radius:10px;padding:1px 8px;margin:0 4px 4px 0;font-size:12px}
.chart{margin:0 0 8px}.chart svg text{font-size:11px;fill:#333}.axis{stroke:#888}
.legend{display:flex;flex-wrap:wrap;gap:4px 12px;font-size:12px}.legend span{white-space:nowrap}.legend svg{vertical-align:middle}
.records details{border-bottom:1px solid #e4e4e4}.records summary{cursor:pointer;padding:3px 0;font-family:ui-monospace,monospace;font-size:12.5px}
.lvl{display:inline-block;width:5.5em;font-weight:600}.lvl-ERROR,.lvl-CRITICAL{color:#b53d00}.lvl-WARN{color:#8a5a00}
mark.redacted{background:#fde2c8;color:#6b2f00;border-radius:3px;padding:0 2px}
dl.fields{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:6px 0 10px 16px;font-size:12.5px}
dl.fields dt{color:#555}dl.fields dd{margin:0;font-family:ui-monospace,monospace;white-space:pre-wrap;word-break:break-all}
pre{background:#f6f6f6;padding:6px;overflow:auto;font-size:12px}pre.stack{border-left:3px solid #D55E00}
.error{color:#8b0000;background:#fff0f0;border:1px solid #e7b4b4;padding:8px}
.panels{display:grid;grid-template-columns:repeat(auto-fill,minmax(460px,1fr));gap:16px}
.panel{border:1px solid #ddd;border-radius:6px;padding:8px 12px}.panel h2{margin-top:0}.meta{color:#555;font-size:12px}
table.data{border-collapse:collapse;font-size:12.5px}table.data th,table.data td{text-align:left;padding:2px 8px;border-bottom:1px solid #eee}
.timeline .err{font-weight:600}footer{padding:8px 16px;color:#555;font-size:12px}
.empty{color:#555;font-style:italic}
nav.tabs{display:flex;gap:4px;margin:4px 0 8px;border-bottom:1px solid #ccc}nav.tabs a{padding:4px 12px;text-decoration:none;border:1px solid transparent;border-bottom:none}
nav.tabs a[aria-current=page]{border-color:#ccc;background:#fff;font-weight:600;margin-bottom:-1px}
.around .hit details{background:#fff8e6;border-left:3px solid #E69F00;padding-left:4px}
table.patterns td.example{font-family:ui-monospace,monospace;font-size:12px;color:#444}
`;
