/**
 * The alerts page: what fires if the rules are evaluated now (as `loglake alerts evaluate --delay 0`),
 * the local alerting's rule state (`<data-dir>/.loglake/alerts-state.json`) and its history
 * (`<data-dir>/alerts.jsonl`), each alert with the search that reproduces it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Alert, formatValue } from '../../alerts/alert';
import { ALERTS_FILE, evaluateLocalLakeNow, readStateFile, STATE_FILE } from '../../alerts/local';
import { type Html, html } from '../html';
import { FILTER_PARAMS, type FilterParam } from '../params';
import type { UiSource } from '../source';

/** History entries shown, newest first. */
export const HISTORY_SHOWN = 50;

export async function alertsPage(source: UiSource, now = new Date()): Promise<Html> {
  if (!source.local) {
    return html`<h1>Alerts</h1><p class="empty">This page shows the local lake's alerting. On AWS the alarm Lambda evaluates the rules and publishes to the stack's SNS topics; its state is in DynamoDB (see the README, "Alerting").</p>`;
  }
  const { dataDir, config } = source.options;
  const firing = await evaluateLocalLakeNow(dataDir, config, now);
  const state = readStateFile(join(dataDir, STATE_FILE));
  const history = readHistory(join(dataDir, ALERTS_FILE));
  const stateRows = Object.entries(state).flatMap(([rule, s]) =>
    Object.entries(s.state.groups).map(([group, g]) => ({ rule, group, ...g })),
  );
  return html`<h1>Alerts</h1>
<section aria-labelledby="firing"><h2 id="firing">Firing now</h2>
<p class="meta">The enabled rules evaluated now over their windows, the minute in progress included (as the demo does; <code>loglake alerts evaluate --data-dir ${dataDir} --delay 0</code> stops at the last whole minute).</p>
${firing.length === 0 ? html`<p class="empty">Nothing fires.</p>` : alertTable(firing)}</section>
<section aria-labelledby="state"><h2 id="state">Rule state of the local alerting</h2>
${stateRows.length === 0 ? html`<p class="empty">No rule state in ${join(dataDir, STATE_FILE)} (the local pipeline's alerting writes it).</p>` : html`<table class="data"><thead><tr><th scope="col">rule</th><th scope="col">group</th><th scope="col">status</th><th scope="col">since</th><th scope="col">last value</th></tr></thead><tbody>${stateRows.map((r) => html`<tr><td>${r.rule}</td><td>${r.group}</td><td>${r.status}</td><td>${r.since}</td><td>${r.lastValue}</td></tr>`)}</tbody></table>`}</section>
<section aria-labelledby="history"><h2 id="history">Recent history</h2>
${history.length === 0 ? html`<p class="empty">No alerts in ${join(dataDir, ALERTS_FILE)} yet.</p>` : alertTable(history.slice(-HISTORY_SHOWN).reverse())}</section>`;
}

function alertTable(alerts: readonly Alert[]): Html {
  return html`<table class="data alerts"><thead><tr><th scope="col">status</th><th scope="col">severity</th><th scope="col">rule</th><th scope="col">group</th><th scope="col">value / threshold</th><th scope="col">window</th><th scope="col">samples</th><th scope="col">reproduce</th></tr></thead>
<tbody>${alerts.map(
    (
      a,
    ) => html`<tr><td>${a.status}</td><td>${a.severity}</td><td title="${a.description}">${a.rule}</td><td>${a.groupKey}</td>
<td>${formatValue(a.value, a.unit)} / ${formatValue(a.threshold, a.unit)}</td><td>${a.window.start.slice(11, 16)}–${a.window.end.slice(11, 16)}</td>
<td>${a.samples.map((id) => html`<a href="/trace?id=${encodeURIComponent(id)}">${id.slice(0, 16)}</a> `)}</td>
<td>${a.search ? html`<a href="/?${searchLink(a.search)}">search</a> <code>${a.search}</code>` : '—'}</td></tr>`,
  )}</tbody></table>`;
}

/** Every alert of `alerts.jsonl`; a line that does not parse is skipped (the file is append-only). */
function readHistory(file: string): Alert[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .flatMap((line) => {
      if (line.trim() === '') return [];
      try {
        return [JSON.parse(line) as Alert];
      } catch {
        return [];
      }
    });
}

/** Words of a POSIX-shell command as `searchCommand` quotes them (bare words and '…' with '\''). */
export function shellWords(command: string): string[] {
  const words: string[] = [];
  const re = /\s*((?:[^\s']+|'(?:[^']|'\\'')*')+)/gy;
  for (let m = re.exec(command); m; m = re.exec(command)) {
    const word = m[1] ?? '';
    words.push(word.replace(/'((?:[^']|'\\'')*)'/g, (_, inner: string) => inner.replaceAll("'\\''", "'")));
  }
  return words;
}

/** The explorer parameter of each `loglake search` filter flag (`--where` repeats). */
const FLAG_PARAMS: ReadonlyMap<string, FilterParam> = new Map(FILTER_PARAMS.map((p) => [p.flag, p]));

/** The explorer's search URL for an alert's `loglake search …` command. */
export function searchLink(command: string): string {
  const words = shellWords(command).slice(2);
  const out = new URLSearchParams();
  for (let i = 0; i < words.length; i++) {
    const w = words[i] ?? '';
    const p = FLAG_PARAMS.get(w);
    if (p?.checkbox) out.set(p.param, '1');
    else if (p !== undefined) out.append(p.param, words[++i] ?? '');
    else if (w.startsWith('--')) i++;
    else out.set('q', w);
  }
  return out.toString();
}
