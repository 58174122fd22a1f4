/**
 * AWS WAF logs (https://docs.aws.amazon.com/waf/latest/developerguide/logging-fields.html): one JSON
 * object per request the web ACL evaluated. The request's own fields fill the HTTP columns; the
 * decision (`action`, `terminatingRuleId`, rule group and rate-based matches, labels) and the rest are
 * kept under WAF's own names; when a rule group ended the evaluation, the message names the rule in the
 * group that did (`by AWS-AWSManagedRulesCommonRuleSet (SizeRestrictions_QUERYSTRING)`). `httpRequest.clientIp` is anonymized by redaction like every address;
 * `httpRequest.country` (WAF's geolocation) is kept.
 *
 * Headers arrive as `[{ name, value }]`; they are kept as `httpRequest.headers.<name>` (lowercase), so
 * the field-name rules of redaction apply to them: Cookie, Authorization and the like keep their name
 * and lose their value.
 */
import { isObject, type Json, type ProducerShape } from '../producers/shape';

/** Actions that stopped the request (the security view's WAF blocks). */
const BLOCKING = new Set(['BLOCK']);

/** `[{ name, value }]` as `{ name: value }`, names lowercased (HTTP header names are case-insensitive). */
function headerMap(headers: unknown): Json | undefined {
  if (!Array.isArray(headers)) return undefined;
  const out: Json = {};
  for (const h of headers) {
    if (!isObject(h) || typeof h.name !== 'string') continue;
    const name = h.name.toLowerCase();
    const value = typeof h.value === 'string' ? h.value : JSON.stringify(h.value ?? null);
    out[name] = name in out ? `${String(out[name])}, ${value}` : value;
  }
  return out;
}

/**
 * The rule inside a rule group that ended the evaluation (`ruleGroupList[].terminatingRule.ruleId`),
 * when a rule group did: `terminatingRuleId` then names only the group.
 */
function groupTerminatingRule(groups: unknown): string | undefined {
  if (!Array.isArray(groups)) return undefined;
  for (const g of groups) {
    if (isObject(g) && isObject(g.terminatingRule) && typeof g.terminatingRule.ruleId === 'string') {
      return g.terminatingRule.ruleId;
    }
  }
  return undefined;
}

export const awsWaf: ProducerShape = {
  name: 'aws-waf',
  matches: (o) =>
    typeof o.webaclId === 'string' && typeof o.terminatingRuleId === 'string' && isObject(o.httpRequest),
  read(o) {
    const request = o.httpRequest as Json;
    const headers = headerMap(request.headers);
    const { headers: _headers, ...requestRest } = request;
    const action = typeof o.action === 'string' ? o.action : 'UNKNOWN';
    const rest: Json = { ...o, httpRequest: headers ? { ...requestRest, headers } : requestRest };
    delete rest.timestamp;
    if (BLOCKING.has(action)) rest['event.security'] = 'true';
    const method = request.httpMethod;
    const uri = request.uri;
    const groupRule = groupTerminatingRule(o.ruleGroupList);
    return {
      columns: {
        timestamp: o.timestamp,
        level: BLOCKING.has(action) ? 'WARN' : 'INFO',
        service: 'aws.waf',
        message: `${action} ${typeof method === 'string' ? method : '-'} ${typeof uri === 'string' ? uri : '-'} by ${String(o.terminatingRuleId)}${groupRule === undefined ? '' : ` (${groupRule})`}`,
        ...(typeof request.requestId === 'string' ? { correlation_id: request.requestId } : {}),
        http_method: method,
        http_path: uri,
        ...(typeof o.responseCodeSent === 'number' ? { http_status: o.responseCodeSent } : {}),
      },
      rest,
    };
  },
};
