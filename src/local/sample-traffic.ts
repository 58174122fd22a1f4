/**
 * Sample traffic for `npm start`: several services and categories, realistic messages carrying secrets
 * and personal data (which the transform must remove), errors with stack traces, and one security
 * incident that a single correlation id ties together.
 */
import { randomBytes } from 'node:crypto';
import type { StreamName } from '../schema';

/** One producer line and the stream it is sent to. */
export interface SampleEvent {
  readonly stream: StreamName;
  readonly line: string;
  /** The service the lake will name (an AWS source's is set by the transform: `aws.waf`). */
  readonly service: string;
}

export interface SampleTraffic {
  readonly events: readonly SampleEvent[];
  /** Correlation id shared by every event of the security incident. */
  readonly incidentCorrelationId: string;
  /** The raw user id of the compromised account (pseudonymized in the lake). */
  readonly incidentUserId: string;
  /** Secrets and personal data in the traffic: none may appear in the lake. */
  readonly secrets: readonly string[];
}

/** A small deterministic PRNG so every demo run tells the same story (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex = (n: number) => randomBytes(n).toString('hex');

/**
 * Build the traffic, timestamps spread over the `spanMs` before `now`.
 * @param count - background events besides the incident. @default 400
 */
export function sampleTraffic(now: Date = new Date(), count = 400, spanMs = 10 * 60_000): SampleTraffic {
  const rnd = prng(42);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const at = (fraction: number) => new Date(now.getTime() - spanMs * (1 - fraction)).toISOString();
  const events: SampleEvent[] = [];
  const named = (o: Record<string, unknown>) => (typeof o.service === 'string' ? o.service : 'unknown');
  const logs = (o: Record<string, unknown>, service = named(o)) =>
    events.push({ stream: 'logs', line: JSON.stringify(o), service });
  const audit = (o: Record<string, unknown>) =>
    events.push({ stream: 'audit', line: JSON.stringify(o), service: named(o) });

  const secrets = {
    awsKeyId: 'AKIA6WP3HI5AK3ZWSRDG',
    awsSecret: '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',
    githubToken: 'ghp_R5fpRQYVktul9Uu1MnGLNHNHMcaje5WH0Eoq',
    card: '4111 1111 1111 1111',
    email: 'marta.kowalska@mail.example.org',
    password: 'Tr0ub4dor&3-horse',
    attackerIp: '203.0.113.77',
  };
  const users = ['4821', '1337', '2048', '7777', '9001'];
  const paths = ['/api/v1/cart', '/api/v1/orders', '/api/v1/products/42', '/api/v1/checkout', '/health'];

  for (let i = 0; i < count; i++) {
    const ts = at(rnd() * 0.9);
    const cid = hex(16);
    const user = pick(users);
    const r = rnd();
    if (r < 0.3) {
      const status = rnd() < 0.08 ? 500 : pick([200, 200, 200, 201, 401, 404]);
      logs({
        timestamp: ts,
        level: status >= 500 ? 'ERROR' : 'INFO',
        service: 'checkout-api',
        logger: 'express.access',
        message: `${pick(['GET', 'POST'])} request completed`,
        correlation_id: cid,
        user_id: user,
        http: { method: pick(['GET', 'POST']), path: pick(paths), status_code: status },
        duration_ms: Math.round(rnd() * 400 * 10) / 10,
        client_ip: `198.51.100.${Math.floor(rnd() * 250) + 1}`,
      });
    } else if (r < 0.5) {
      logs({
        timestamp: ts,
        level: pick(['INFO', 'INFO', 'WARN']),
        service: 'order-worker',
        logger: 'worker.orders',
        message: pick([
          `order ${Math.floor(rnd() * 1e6)} shipped to ${secrets.email}`,
          'retrying payment capture after gateway timeout',
          'invoice sent to customer',
          'queue depth 12, workers 4',
        ]),
        correlation_id: cid,
        user_id: user,
      });
    } else if (r < 0.62) {
      const err = pick(['TimeoutError', 'ConnectionResetError', 'CardDeclinedError']);
      logs({
        timestamp: ts,
        level: 'ERROR',
        service: 'payments',
        logger: 'payments.capture',
        message: `charge failed for card ${secrets.card}: ${err}`,
        correlation_id: cid,
        user_id: user,
        error: {
          type: err,
          stack: `${err}: upstream closed\n    at capture (/srv/payments/capture.js:88:11)\n    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)`,
        },
      });
    } else if (r < 0.74) {
      logs({
        timestamp: ts,
        level: 'DEBUG',
        service: 'recommendations',
        logger: 'recs.model',
        message: `scored ${Math.floor(rnd() * 50)} candidates in ${Math.floor(rnd() * 30)} ms`,
        correlation_id: cid,
      });
    } else if (r < 0.84) {
      logs({
        timestamp: ts,
        level: 'INFO',
        service: 'deploy-bot',
        logger: 'runtime.jobs',
        message: pick([
          `git clone with token ${secrets.githubToken}`,
          `assumed role with aws_access_key_id=${secrets.awsKeyId} aws_secret_access_key=${secrets.awsSecret}`,
          'job nightly-reindex finished in 41 s',
        ]),
        correlation_id: cid,
      });
    } else if (r < 0.94) {
      logs({
        timestamp: ts,
        level: 'INFO',
        service: 'identity',
        logger: 'auth.login',
        message: 'login succeeded',
        // ECS's event fields: the security dashboard counts failures by them, not by wording.
        event: { category: 'authentication', outcome: 'success' },
        correlation_id: cid,
        user_id: user,
        client_ip: `192.0.2.${Math.floor(rnd() * 250) + 1}`,
      });
    } else {
      audit({
        timestamp: ts,
        level: 'INFO',
        service: 'billing',
        logger: 'billing.audit',
        message: `invoice ${Math.floor(rnd() * 1e5)} approved`,
        correlation_id: cid,
        user_id: user,
        audit: true,
      });
    }
  }

  // The incident: password spraying against an admin account, a login from the same address, a
  // privilege change, a break-glass session and a bulk export, all under one correlation id.
  const incident = `inc-${hex(12)}`;
  const victim = '1001';
  for (let i = 0; i < 12; i++) {
    logs({
      timestamp: at(0.9 + i * 0.004),
      level: 'WARN',
      service: 'identity',
      logger: 'auth.login',
      message: `login failed from ${secrets.attackerIp}`,
      event: { category: 'authentication', outcome: 'failure' },
      password: secrets.password,
      correlation_id: incident,
      user_id: victim,
      client_ip: secrets.attackerIp,
    });
  }
  logs({
    timestamp: at(0.95),
    level: 'WARN',
    service: 'identity',
    logger: 'auth.login',
    message: `login succeeded from ${secrets.attackerIp} after 12 failures`,
    event: { category: 'authentication', outcome: 'success' },
    correlation_id: incident,
    user_id: victim,
    client_ip: secrets.attackerIp,
  });
  logs({
    timestamp: at(0.96),
    level: 'CRITICAL',
    service: 'identity',
    logger: 'admin.users',
    message: `role admin granted; notification sent to ${secrets.email}`,
    correlation_id: incident,
    user_id: victim,
  });
  audit({
    timestamp: at(0.97),
    level: 'CRITICAL',
    service: 'identity',
    logger: 'breakglass',
    message: 'break-glass session opened',
    correlation_id: incident,
    user_id: victim,
    audit: true,
  });
  logs({
    timestamp: at(0.98),
    level: 'INFO',
    service: 'checkout-api',
    logger: 'express.access',
    message: 'GET request completed',
    correlation_id: incident,
    user_id: victim,
    http: { method: 'GET', path: `/api/v1/export/customers?token=${secrets.githubToken}`, status_code: 200 },
    duration_ms: 8412.5,
    client_ip: secrets.attackerIp,
  });
  // The AI generation pipeline (the explorer's fourth dashboard): models, tokens, cost, failures. Its own
  // generator, so the traffic above stays what it was.
  const ai = prng(7);
  const aiPick = <T>(xs: readonly T[]): T => xs[Math.floor(ai() * xs.length)] as T;
  const models = [
    { model: 'claude-sonnet', inUsd: 3, outUsd: 15 },
    { model: 'claude-haiku', inUsd: 0.8, outUsd: 4 },
    { model: 'titan-embed', inUsd: 0.1, outUsd: 0 },
  ];
  for (let i = 0; i < Math.max(8, Math.round(count / 10)); i++) {
    const m = aiPick(models);
    const input = 200 + Math.floor(ai() * 3000);
    const output = m.outUsd === 0 ? 0 : 50 + Math.floor(ai() * 800);
    const cost = (input * m.inUsd + output * m.outUsd) / 1e6;
    const failed = ai() < 0.18;
    const err = aiPick(['RateLimitError', 'ContentFilterError', 'TimeoutError']);
    const timestamp = at(ai() * 0.9);
    const ms = failed ? 30_000 : Math.floor(ai() * 4000);
    logs({
      timestamp,
      level: failed ? 'ERROR' : 'INFO',
      service: 'genai-pipeline',
      logger: 'ai.generate',
      message: failed ? `generation failed for ${secrets.email}: ${err}` : `generation completed in ${ms} ms`,
      duration_ms: ms,
      correlation_id: hex(16),
      model: m.model,
      input_tokens: input,
      output_tokens: failed ? 0 : output,
      cost_usd: failed ? 0 : Number(cost.toFixed(6)),
      ...(failed
        ? {
            error: {
              type: err,
              stack: `${err}: model call failed\n    at generate (/srv/genai/generate.py:41)`,
            },
          }
        : {}),
    });
  }
  // Another service calling a model (the AI dashboard is not tied to one service): the support bot.
  for (let i = 0; i < Math.max(4, Math.round(count / 40)); i++) {
    const input = 400 + Math.floor(ai() * 1200);
    const output = 80 + Math.floor(ai() * 300);
    const ms = 300 + Math.floor(ai() * 1500);
    logs({
      timestamp: at(ai() * 0.9),
      level: 'INFO',
      service: 'support-bot',
      logger: 'bot.reply',
      message: `reply drafted in ${ms} ms`,
      duration_ms: ms,
      correlation_id: hex(16),
      model: 'gpt-4o-mini',
      input_tokens: input,
      output_tokens: output,
      cost_usd: Number(((input * 0.15 + output * 0.6) / 1e6).toFixed(6)),
    });
  }
  // The same traffic's edge: AWS WAF's log records (as WAF sends them to its Firehose stream), the
  // attacker's requests blocked by a managed rule group and a rate rule, and GuardDuty findings as
  // EventBridge delivers them. Their own generator again.
  const edge = prng(11);
  const edgePick = <T>(xs: readonly T[]): T => xs[Math.floor(edge() * xs.length)] as T;
  const wafRules = [
    { rule: 'Default_Action', type: 'REGULAR', action: 'ALLOW' },
    { rule: 'Default_Action', type: 'REGULAR', action: 'ALLOW' },
    { rule: 'AWS-AWSManagedRulesSQLiRuleSet', type: 'MANAGED_RULE_GROUP', action: 'BLOCK' },
    { rule: 'RateLimitPerIp', type: 'RATE_BASED', action: 'BLOCK' },
  ];
  for (let i = 0; i < Math.max(8, Math.round(count / 20)); i++) {
    const r = edgePick(wafRules);
    const blocked = r.action === 'BLOCK';
    logs(
      {
        timestamp: Date.parse(at(edge() * 0.9)),
        formatVersion: 1,
        webaclId:
          'arn:aws:wafv2:eu-west-1:111122223333:regional/webacl/shop/4eede063-e611-44f5-b357-ffc9d7b7fed5',
        terminatingRuleId: r.rule,
        terminatingRuleType: r.type,
        action: r.action,
        terminatingRuleMatchDetails: [],
        httpSourceName: 'ALB',
        httpSourceId: '111122223333-app/shop/50dc6c495c0c9188',
        ruleGroupList: [],
        rateBasedRuleList: [],
        nonTerminatingMatchingRules: [],
        httpRequest: {
          clientIp: blocked ? secrets.attackerIp : `198.51.100.${Math.floor(edge() * 250) + 1}`,
          country: blocked ? 'NL' : 'DE',
          headers: [{ name: 'Host', value: 'shop.example.com' }],
          uri: blocked ? "/api/v1/products/42' OR 1=1--" : pick(paths),
          args: '',
          httpVersion: 'HTTP/1.1',
          httpMethod: 'GET',
          requestId: hex(8),
        },
        ...(blocked ? { responseCodeSent: 403 } : {}),
      },
      'aws.waf',
    );
  }
  const findings = [
    { type: 'Recon:EC2/PortProbeUnprotectedPort', severity: 2, title: 'Unprotected port is being probed.' },
    { type: 'UnauthorizedAccess:EC2/SSHBruteForce', severity: 5, title: 'SSH brute force attacks.' },
    {
      type: 'CredentialAccess:IAMUser/AnomalousBehavior',
      severity: 8,
      title: 'An API used to access credentials was invoked anomalously.',
    },
  ];
  for (let i = 0; i < 6; i++) {
    const f = edgePick(findings);
    const time = at(edge() * 0.9);
    logs(
      {
        version: '0',
        id: hex(16),
        'detail-type': 'GuardDuty Finding',
        source: 'aws.guardduty',
        account: '111122223333',
        time,
        region: 'eu-west-1',
        resources: [],
        detail: {
          schemaVersion: '2.0',
          accountId: '111122223333',
          region: 'eu-west-1',
          id: hex(16),
          type: f.type,
          severity: f.severity,
          title: f.title,
          createdAt: time,
          updatedAt: time,
        },
      },
      'aws.guardduty',
    );
  }
  return {
    events,
    incidentCorrelationId: incident,
    incidentUserId: victim,
    secrets: [
      secrets.awsKeyId,
      secrets.awsSecret,
      secrets.githubToken,
      secrets.card,
      secrets.email,
      secrets.password,
      secrets.attackerIp,
    ],
  };
}
