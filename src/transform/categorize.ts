/** Category decision: an explicit valid `category` wins, then the configured rules, then the default. */
import type { CategoryRule } from '../config';
import { CATEGORIES, type Category, type LogRecord } from '../schema';

const FALSY = new Set(['', 'false', '0', 'no', 'off', 'null', 'undefined']);

export function isCategory(value: string): value is Category {
  return (CATEGORIES as readonly string[]).includes(value);
}

function startsWithAny(value: string | null, prefixes: readonly string[]): boolean {
  if (value === null) return false;
  const v = value.toLowerCase();
  return prefixes.some((p) => v.startsWith(p.toLowerCase()));
}

/** True when every condition the rule sets holds for the record (a rule without conditions matches all). */
export function ruleMatches(rule: CategoryRule, record: LogRecord): boolean {
  if (rule.loggerPrefixes && !startsWithAny(record.logger, rule.loggerPrefixes)) return false;
  if (rule.servicePrefixes && !startsWithAny(record.service, rule.servicePrefixes)) return false;
  if (rule.levels && !rule.levels.includes(record.level)) return false;
  if (rule.http !== undefined) {
    const http = record.http_method !== null || record.http_path !== null || record.http_status !== null;
    if (http !== rule.http) return false;
  }
  if (rule.markers) {
    const present = rule.markers.some((m) => {
      const v = record.attributes[m];
      return v !== undefined && !FALSY.has(v.trim().toLowerCase());
    });
    if (!present) return false;
  }
  return true;
}

/** The category of one normalized record by the rules (first match wins), else `defaultCategory`. */
export function categoryByRules(
  record: LogRecord,
  rules: readonly CategoryRule[],
  defaultCategory: Category,
): Category {
  for (const rule of rules) if (ruleMatches(rule, record)) return rule.category;
  return defaultCategory;
}
