/**
 * Drain-style clustering of message templates (He et al., "Drain: An Online Log Parsing Approach with
 * Fixed Depth Tree", ICWS 2017), on templates already masked at ingest (`mask.ts`): templates with the
 * same number of tokens and the same first token are merged when enough of their tokens agree, the
 * differing positions becoming `<*>`. So "user alice logged in" and "user bob logged in" become
 * "user <*> logged in", which masking alone cannot know.
 *
 * Deterministic: templates are taken most frequent first (then by text), and each joins the most similar
 * cluster of its kind (the earliest one on a tie).
 */

/** A template with its counts, as the patterns query returns it. */
export interface TemplateCount {
  readonly template: string;
  readonly count: number;
  readonly firstSeen: string | null;
  readonly lastSeen: string | null;
  /** One message with this template. @default null when examples were not asked for */
  readonly example: string | null;
}

/** A cluster: its template (with `<*>` where members differ) and the members' totals. */
export interface Pattern extends TemplateCount {
  /** How many distinct stored templates it merges. */
  readonly templates: number;
}

export const WILDCARD = '<*>';

/** Share of positions that must agree for two templates to merge. @default 0.6 */
export const DEFAULT_SIMILARITY = 0.6;

interface Cluster {
  tokens: string[];
  count: number;
  firstSeen: string | null;
  lastSeen: string | null;
  /** From the most frequent member that has one. */
  example: string | null;
  templates: number;
  order: number;
}

const isPlaceholder = (token: string) => /^<[A-Z*]+>$/.test(token);

/** Positions where the tokens agree (a wildcard agrees with anything), as a share of the length. */
function similarity(cluster: readonly string[], tokens: readonly string[]): number {
  let same = 0;
  for (let i = 0; i < tokens.length; i++) {
    if (cluster[i] === tokens[i] || cluster[i] === WILDCARD) same++;
  }
  return same / tokens.length;
}

/**
 * Merge templates into clusters, most frequent first.
 * @param threshold - share of agreeing tokens needed to merge (0–1]; 1 merges only identical templates.
 *   @default {@link DEFAULT_SIMILARITY}
 */
export function clusterTemplates(
  items: readonly TemplateCount[],
  threshold: number = DEFAULT_SIMILARITY,
): Pattern[] {
  const sorted = [...items].sort(
    (a, b) => b.count - a.count || (a.template < b.template ? -1 : a.template > b.template ? 1 : 0),
  );
  // The tree of Drain: first by token count, then by first token (placeholders share one branch).
  const tree = new Map<string, Cluster[]>();
  const all: Cluster[] = [];
  for (const item of sorted) {
    const tokens = item.template.split(' ').filter((t) => t !== '');
    const first = tokens[0] ?? '';
    const branch = `${tokens.length}\u0000${isPlaceholder(first) ? WILDCARD : first}`;
    const clusters = tree.get(branch) ?? [];
    tree.set(branch, clusters);
    let best: Cluster | undefined;
    let bestSim = -1;
    for (const c of clusters) {
      const sim = similarity(c.tokens, tokens);
      if (sim > bestSim) {
        best = c;
        bestSim = sim;
      }
    }
    if (best !== undefined && tokens.length > 0 && bestSim >= threshold) {
      best.tokens = best.tokens.map((t, i) => (t === tokens[i] ? t : WILDCARD));
      best.count += item.count;
      best.firstSeen = earliest(best.firstSeen, item.firstSeen);
      best.lastSeen = latest(best.lastSeen, item.lastSeen);
      if (best.example === null && item.example !== null) best.example = item.example;
      best.templates++;
    } else {
      const cluster: Cluster = {
        tokens,
        count: item.count,
        firstSeen: item.firstSeen,
        lastSeen: item.lastSeen,
        example: item.example,
        templates: 1,
        order: all.length,
      };
      clusters.push(cluster);
      all.push(cluster);
    }
  }
  return all
    .sort((a, b) => b.count - a.count || a.order - b.order)
    .map((c) => ({
      template: c.tokens.join(' '),
      count: c.count,
      firstSeen: c.firstSeen,
      lastSeen: c.lastSeen,
      example: c.example,
      templates: c.templates,
    }));
}

/** The earlier of two ISO-8601 UTC times (texts of one format compare as strings); null is unknown. */
export function earliest(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return a < b ? a : b;
}

/** The later of two ISO-8601 UTC times; null is unknown. */
export function latest(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return a > b ? a : b;
}
