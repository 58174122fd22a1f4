/**
 * The explorer's time picker: one-click presets (links to `since=15m`) and an absolute range as two
 * native `datetime-local` inputs (read as UTC, like every time the CLI takes). Everything lands in the
 * URL as the CLI's own `since`/`until` values, so a range can be shared and `loglake search --since …
 * --until …` asks the same question. No script: while the range is relative, the form carries it in a
 * hidden `range`, which the server takes as `since` unless the From input was filled (so a new search
 * text keeps "the last hour", and typed dates win).
 */
import { InputError } from '../errors';
import { type Html, html } from './html';

/** The presets, newest-first spans as `--since` takes them. */
export const RANGE_PRESETS = ['15m', '1h', '24h', '7d'] as const;
const RELATIVE = /^\d{1,9}\s*[smhdw]$/;

/** A relative time (`15m`, `2h`): the range ends now. */
export function isRelative(value: string | undefined): value is string {
  return value !== undefined && RELATIVE.test(value.trim());
}

/**
 * The `since` of a request: `since` when given (the From input, a link), else the relative `range` the
 * form carried.
 * @throws InputError naming `range` when it is not a relative time.
 */
export function rangeSince(range: string | undefined, since: string | undefined): string | undefined {
  const r = range?.trim();
  if (!r) return since;
  if (!isRelative(r)) {
    throw new InputError(
      `range: expected a relative time such as ${RANGE_PRESETS.join(', ')} (received ${JSON.stringify(range)})`,
    );
  }
  return since ?? r;
}

/** A time as a `datetime-local` value in UTC, to the second. */
export function localInputValue(t: Date): string {
  return t.toISOString().slice(0, 19);
}

export interface RangePickerOptions {
  /** `since` as the URL has it (relative or absolute); undefined: the page's default. */
  readonly since: string | undefined;
  readonly until: string | undefined;
  /** The page's default look-back. */
  readonly defaultSince: string;
  /** The resolved range (shown in the absolute inputs when the range is not relative). */
  readonly from: Date;
  readonly to: Date;
  /** The page's address with `since` set to a preset (and `until` removed). */
  readonly presetHref: (since: string) => string;
}

/** The picker: preset links and the From/To inputs (inside the page's form). */
export function rangePicker(o: RangePickerOptions): Html {
  const relative = o.until === undefined && isRelative(o.since ?? o.defaultSince);
  const current = relative ? (o.since ?? o.defaultSince).trim() : undefined;
  return html`<fieldset class="range"><legend>Time range</legend>
<span class="presets" role="group" aria-label="Quick ranges">Last ${RANGE_PRESETS.map((p) => html`<a href="${o.presetHref(p)}"${current === p ? html` aria-current="true"` : ''} aria-label="Last ${p}">${p}</a> `)}</span>
${current === undefined ? '' : html`<input type="hidden" name="range" value="${current}"><span class="meta" id="range-now">showing the last ${current}</span>`}
<label>From (UTC)<input type="datetime-local" name="since" step="1" value="${relative ? '' : localInputValue(o.from)}"></label>
<label>To (UTC)<input type="datetime-local" name="until" step="1" value="${relative || o.until === undefined ? '' : localInputValue(o.to)}"></label>
</fieldset>`;
}
