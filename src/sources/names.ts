/**
 * Names shared between the CDK side (subscriptions, the WAF stream) and the transform, across the
 * deployment boundary: the transform reads a subscription's category back from the filter's name.
 */
import { CATEGORIES, type Category } from '../schema';

/** AWS WAF delivers logs only to a Firehose stream whose name starts with this. */
export const WAF_STREAM_PREFIX = 'aws-waf-logs-';

/** The WAF delivery stream of the lake named `lakeName`. */
export function wafStreamName(lakeName: string): string {
  return `${WAF_STREAM_PREFIX}${lakeName}`;
}

/**
 * Marks a subscription filter whose events all belong to one category. CloudWatch Logs puts the names
 * of the filters that matched into every payload (`subscriptionFilters`), so the category travels with
 * the data and the transform needs no per-log-group setting. Filter names may hold neither `:` nor `*`.
 */
const CATEGORY_MARK = '.category=';

/** The subscription filter name for a lake, with the category its events are put in, if any. */
export function subscriptionFilterName(lakeName: string, category?: Category): string {
  return category === undefined ? `${lakeName}-lake` : `${lakeName}-lake${CATEGORY_MARK}${category}`;
}

/** Whether `filterName` is one of the names {@link subscriptionFilterName} gives for the lake `lakeName`. */
export function isLakeFilterName(lakeName: string, filterName: string): boolean {
  const base = subscriptionFilterName(lakeName);
  if (filterName === base) return true;
  if (!filterName.startsWith(`${base}${CATEGORY_MARK}`)) return false;
  return (CATEGORIES as readonly string[]).includes(filterName.slice(base.length + CATEGORY_MARK.length));
}

/** The category the first marked filter name in `names` sets, if any (unknown categories are ignored). */
export function categoryFromFilterNames(names: unknown): Category | undefined {
  if (!Array.isArray(names)) return undefined;
  for (const name of names) {
    if (typeof name !== 'string') continue;
    const at = name.lastIndexOf(CATEGORY_MARK);
    if (at < 0) continue;
    const category = name.slice(at + CATEGORY_MARK.length);
    if ((CATEGORIES as readonly string[]).includes(category)) return category as Category;
  }
  return undefined;
}
