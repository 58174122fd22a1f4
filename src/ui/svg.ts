/**
 * Charts as server-rendered SVG: no script, readable without one, and the same bytes in a screenshot
 * as in the browser. Each chart has an accessible name and a `<title>` per mark (a hover tooltip).
 */
import { type Html, html } from './html';

/** Colours by level and for other series (colour-blind-safe palette, Okabe-Ito). */
export const SERIES_COLOURS: Readonly<Record<string, string>> = {
  DEBUG: '#999999',
  INFO: '#0072B2',
  WARN: '#E69F00',
  ERROR: '#D55E00',
  CRITICAL: '#CC79A7',
};
/**
 * Series colours: Okabe-Ito's eight (colour-blind safe), then four of Paul Tol's dark ones, so a chart of up to
 * twelve series (the tracing dashboard's services) repeats none.
 */
const PALETTE = [
  '#0072B2',
  '#E69F00',
  '#009E73',
  '#D55E00',
  '#CC79A7',
  '#56B4E9',
  '#F0E442',
  '#999999',
  '#332288',
  '#117733',
  '#882255',
  '#AA4499',
];

export function colourOf(series: string, index: number): string {
  return SERIES_COLOURS[series] ?? PALETTE[index % PALETTE.length] ?? '#0072B2';
}

export interface TimeBucket {
  /** Bucket start, epoch ms. */
  readonly start: number;
  readonly values: Readonly<Record<string, number>>;
}

export interface StackedBarsOptions {
  readonly label: string;
  readonly series: readonly string[];
  readonly buckets: readonly TimeBucket[];
  /** Range shown, epoch ms: buckets are placed in it. */
  readonly from: number;
  readonly to: number;
  readonly bucketMs: number;
  readonly width?: number;
  readonly height?: number;
}

const short = (ms: number, spanMs: number): string => {
  const iso = new Date(ms).toISOString();
  return spanMs > 2 * 86_400_000 ? iso.slice(5, 16).replace('T', ' ') : iso.slice(11, 16);
};

/** Bars over time, stacked by series (a volume histogram by level, errors over time). */
export function stackedBars(o: StackedBarsOptions): Html {
  const width = o.width ?? 960;
  const height = o.height ?? 140;
  const [padL, padB, padT] = [44, 20, 8];
  const plotW = width - padL - 4;
  const plotH = height - padB - padT;
  const span = Math.max(1, o.to - o.from);
  const max = Math.max(1, ...o.buckets.map((b) => o.series.reduce((s, k) => s + (b.values[k] ?? 0), 0)));
  const x = (t: number) => padL + ((t - o.from) / span) * plotW;
  const barW = Math.max(1, (o.bucketMs / span) * plotW - 1);
  const bars = o.buckets.map((b) => {
    let y = padT + plotH;
    return o.series.map((k, i) => {
      const v = b.values[k] ?? 0;
      if (v <= 0) return '';
      const h = (v / max) * plotH;
      y -= h;
      return html`<rect x="${x(b.start).toFixed(1)}" y="${y.toFixed(1)}" width="${barW.toFixed(1)}" height="${h.toFixed(1)}" fill="${colourOf(k, i)}"><title>${new Date(b.start).toISOString()} ${k}: ${v}</title></rect>`;
    });
  });
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const t = o.from + f * span;
    return html`<text x="${x(t).toFixed(1)}" y="${height - 4}" text-anchor="${f === 0 ? 'start' : f === 1 ? 'end' : 'middle'}">${short(t, span)}</text>`;
  });
  const total = o.buckets.reduce((s, b) => s + o.series.reduce((a, k) => a + (b.values[k] ?? 0), 0), 0);
  return html`<figure class="chart">
<svg role="img" aria-label="${o.label}: ${total} in all" viewBox="0 0 ${width} ${height}" width="100%" preserveAspectRatio="none" class="bars">
<title>${o.label}</title>
<line x1="${padL}" y1="${padT + plotH}" x2="${width - 4}" y2="${padT + plotH}" class="axis"/>
<text x="${padL - 4}" y="${padT + 8}" text-anchor="end">${max}</text><text x="${padL - 4}" y="${padT + plotH}" text-anchor="end">0</text>
${bars}${ticks}
</svg>
${legend(o.series)}
</figure>`;
}

export function legend(series: readonly string[]): Html {
  return html`<figcaption class="legend">${series.map((s, i) => html`<span><svg width="10" height="10" aria-hidden="true"><rect width="10" height="10" fill="${colourOf(s, i)}"/></svg> ${s}</span>`)}</figcaption>`;
}

export interface BarItem {
  readonly label: string;
  readonly value: number;
  /** Shown instead of the value. */
  readonly text?: string;
  readonly href?: string;
}

/** Horizontal bars, largest first as given (top services, error types, models). */
export function horizontalBars(label: string, items: readonly BarItem[], width = 460): Html {
  const rowH = 22;
  const labelW = 170;
  const height = Math.max(rowH, items.length * rowH);
  const max = Math.max(1e-9, ...items.map((i) => i.value));
  const rows = items.map((item, n) => {
    const w = Math.max(1, (item.value / max) * (width - labelW - 110));
    const y = n * rowH;
    const name = item.label.length > 26 ? `${item.label.slice(0, 25)}…` : item.label;
    const text = html`<text x="${labelW - 6}" y="${y + 15}" text-anchor="end">${name}</text>`;
    return html`<g>${item.href ? html`<a href="${item.href}">${text}</a>` : text}<rect x="${labelW}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 6}" fill="${colourOf('', n)}"><title>${item.label}: ${item.text ?? item.value}</title></rect><text x="${(labelW + w + 4).toFixed(1)}" y="${y + 15}">${item.text ?? item.value}</text></g>`;
  });
  return html`<figure class="chart"><svg role="img" aria-label="${label}" viewBox="0 0 ${width} ${height}" width="100%" class="hbars"><title>${label}</title>${rows}</svg></figure>`;
}

/** Histogram bucket width for a range: about `target` bars, on a readable step. */
export function bucketWidth(spanMs: number, target = 60): number {
  const steps = [1, 5, 10, 30, 60, 300, 600, 900, 1800, 3600, 10_800, 21_600, 43_200, 86_400, 604_800].map(
    (s) => s * 1000,
  );
  return steps.find((s) => spanMs / s <= target) ?? 604_800_000 * Math.ceil(spanMs / target / 604_800_000);
}
