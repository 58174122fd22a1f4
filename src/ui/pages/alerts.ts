/**
 * The alerts page. Locally: what fires if the rules are evaluated now (as `loglake alerts evaluate
 * --delay 0`), the local alerting's rule state (`<data-dir>/.loglake/alerts-state.json`) and its history
 * (`<data-dir>/alerts.jsonl`), each alert with the search that reproduces it. Over a deployed stack: the
 * rules' state the alarm Lambda keeps in DynamoDB, the rules a persona's role may read only.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Alert, formatValue } from '../../alerts/alert';
import { ALERTS_FILE, evaluateLocalLakeNow, readStateFile, STATE_FILE } from '../../alerts/local';
import type { StoredRuleState } from '../../alerts/run';
import { ruleStateKey } from '../../alerts/state-table';
import { STACK_OUTPUTS } from '../../outputs';
import { type Html, html } from '../html';
import { FILTER_PARAMS, type FilterParam } from '../params';
import type { StackAlertState, UiSource } from '../source';

/** History entries shown, newest first. */
export const HISTORY_SHOWN = 50;

export async function alertsPage(source: UiSource, now = new Date()): Promise<Html> {
  const deployed = source.alertState();
  if (deployed) return stackAlertsPage(source, await deployed);
  const { dataDir, config } = source.options;
  const firing = await evaluateLocalLakeNow(dataDir, config, now);
  const state = readStateFile(join(dataDir, STATE_FILE));
  const history = readHistory(join(dataDir, ALERTS_FILE));
  const stateRows = Object.entries(state).flatMap(([rule, s]) => groupRows(rule, s));
  return html`<h1>Alerts</h1>
<section aria-labelledby="firing"><h2 id="firing">Firing now</h2>
<p class="meta">The enabled rules evaluated now over their windows, the minute in progress included (as the demo does; <code>loglake alerts evaluate --data-dir ${dataDir} --delay 0</code> stops at the last whole minute).</p>
${firing.length === 0 ? html`<p class="empty">Nothing fires.</p>` : alertTable(firing)}</section>
<section aria-labelledby="state"><h2 id="state">Rule state of the local alerting</h2>
${stateRows.length === 0 ? html`<p class="empty">No rule state in ${join(dataDir, STATE_FILE)} (the local pipeline's alerting writes it).</p>` : stateTable(stateRows)}</section>
<section aria-labelledby="history"><h2 id="history">Recent history</h2>
${history.length === 0 ? html`<p class="empty">No alerts in ${join(dataDir, ALERTS_FILE)} yet.</p>` : alertTable(history.slice(-HISTORY_SHOWN).reverse())}</section>`;
}

/** One row of the rule state table: a group of a rule, or a rule with no group to show and why. */
interface StateRow {
  readonly rule: string;
  readonly group: string;
  readonly status: string;
  readonly since: string;
  readonly lastValue: string | number;
  /** The last evaluation slot applied. */
  readonly lastSlot: string;
}

/** A rule's pending and firing groups, as its stored state holds them (none when all is quiet). */
function groupRows(rule: string, stored: StoredRuleState): StateRow[] {
  return Object.entries(stored.state.groups).map(([group, g]) => ({
    rule,
    group,
    status: g.status,
    since: g.since,
    lastValue: g.lastValue,
    lastSlot: stored.lastSlot ?? '',
  }));
}

function stateTable(rows: readonly StateRow[]): Html {
  return html`<table class="data"><thead><tr><th scope="col">rule</th><th scope="col">group</th><th scope="col">status</th><th scope="col">since</th><th scope="col">last value</th><th scope="col">last evaluated</th></tr></thead><tbody>${rows.map((r) => html`<tr><td>${r.rule}</td><td>${r.group}</td><td>${r.status}</td><td>${r.since}</td><td>${r.lastValue}</td><td>${r.lastSlot}</td></tr>`)}</tbody></table>`;
}

/** The page over a deployed stack: the alarm Lambda evaluates the rules; this is the state it keeps. */
function stackAlertsPage(source: UiSource, deployed: StackAlertState): Html {
  const { alerts } = source.options.config;
  const intro = html`<p class="meta">On AWS the alarm Lambda evaluates the enabled rules every ${alerts.scheduleMinutes} minutes and publishes what fires to the stack's SNS topics (one per severity; subscribe there). This page shows the state it keeps between evaluations; what fired before is in those topics' subscriptions.</p>`;
  if (deployed.kind === 'no-alerting') {
    return html`<h1>Alerts</h1>${intro}<p class="empty">This stack has no alerting (it was deployed with <code>alerts.enabled: false</code>): no rule is evaluated.</p>`;
  }
  if (deployed.kind === 'table-unknown') {
    return html`<h1>Alerts</h1>${intro}<p class="empty">The alarm Lambda's state table is not known: name the stack with <code>--stack</code> (the workgroup and database flags alone do not say), or redeploy a stack deployed before its <code>${STACK_OUTPUTS.alertStateTable}</code> output.</p>`;
  }
  const persona = source.personaName;
  const denied = deployed.rules.flatMap((r) => ('denied' in r ? [r] : []));
  const rows = deployed.rules.flatMap((r): StateRow[] => {
    const none = { group: '—', since: '—', lastValue: '—', lastSlot: '—' };
    if ('denied' in r) return [{ rule: r.rule, ...none, status: 'not readable (see above)' }];
    if (!r.stored) return [{ rule: r.rule, ...none, status: 'never evaluated' }];
    const groups = groupRows(r.rule, r.stored);
    return groups.length > 0
      ? groups
      : [{ rule: r.rule, ...none, status: 'quiet', lastSlot: r.stored.lastSlot ?? '—' }];
  });
  return html`<h1>Alerts</h1>${intro}
<section aria-labelledby="state"><h2 id="state">Rule state</h2>
<p class="meta">From DynamoDB table <code>${deployed.table}</code>${persona ? html`, as persona ${persona}: the rules over the categories it reads, which its role may read and no other` : ''}.</p>
${
  denied.length > 0
    ? html`<p class="error">Your credentials may not read the state of ${denied.map((r) => r.rule).join(', ')}: this needs <code>dynamodb:GetItem</code> on ${deployed.table} for ${denied.map((r) => html`<code>${ruleStateKey(r.rule)}</code> `)}and <code>kms:Decrypt</code> on the table's key through DynamoDB (a persona role has both for the rules over its categories). AWS said: ${denied[0]?.denied ?? ''}</p>`
    : ''
}
${rows.length === 0 ? html`<p class="empty">No rule to show${persona ? html`: persona ${persona} reads no rule's categories` : ''}.</p>` : stateTable(rows)}
${deployed.notAsked.length > 0 ? html`<p class="meta">Not shown: ${deployed.notAsked.join(', ')} (over categories persona ${persona ?? ''} does not read).</p>` : ''}</section>`;
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
