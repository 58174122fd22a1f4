/** The Grafana output: every panel's SQL carries the macros and the dt/hour pruning; the command writes the files. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { grafanaCommand } from '../../src/cli/commands/grafana';
import { athenaTablesFor } from '../../src/cli/options';
import { DEFAULT_CONFIG } from '../../src/config';
import { buildQuery } from '../../src/query/build';
import { DASHBOARDS } from '../../src/ui/dashboards';
import {
  ALL_SERVICES,
  expandAthenaMacros,
  expandServiceVariable,
  type GrafanaOptions,
  grafanaDashboard,
  grafanaPanel,
  grafanaServiceVariableSql,
  grafanaSql,
} from '../../src/ui/grafana';

const options: GrafanaOptions = {
  database: 'loglake_db',
  workGroup: 'loglake-security',
  region: 'eu-west-1',
  tables: { logs: 'logs_t', audit: 'audit_t' },
  tablesFor: (categories) => athenaTablesFor(categories, DEFAULT_CONFIG, false),
};

describe('Grafana panel SQL', () => {
  it.each(DASHBOARDS.flatMap((d) => d.panels.map((p) => [`${d.id}/${p.id}`, d, p] as const)))(
    '%s is pruned by dt and hour from the macros, values as literals',
    (_name, d, panel) => {
      // Act
      const { sql } = grafanaPanel(d, panel, options);

      // Assess
      expect(sql).not.toContain('?');
      expect(sql).toContain(
        `"dt" BETWEEN date_format($__timeFrom(), '%Y-%m-%d') AND date_format($__timeTo(), '%Y-%m-%d')`,
      );
      expect(sql).toContain(`"hour" >= date_format($__timeFrom(), '%H')`);
      expect(sql).toContain(`"hour" <= date_format($__timeTo(), '%H')`);
      expect(sql).toContain('"timestamp" >= $__timeFrom() AND "timestamp" <= $__timeTo()');
      expect(sql).toMatch(/"loglake_db"\."(logs_t|audit_t)"/);
    },
  );

  it('reads a locked category from both tables: what the transform could not forward stays in logs', () => {
    // Act
    const security = DASHBOARDS.find((d) => d.id === 'security');
    const trail = security?.panels.find((p) => p.id === 'audit-trail');
    const sql = security && trail ? grafanaPanel(security, trail, options).sql : '';

    // Assess
    expect(sql).toContain('"loglake_db"."audit_t"');
    expect(sql).toContain('"loglake_db"."logs_t"');
    expect(sql.match(/"category" IN \('audit'\)/g)).toHaveLength(2);
  });

  it.each(['auth-failures', 'waf-blocks', 'ids-alerts'])(
    'security/%s reads both tables: its events may be in a locked category or not',
    (id) => {
      // Act
      const security = DASHBOARDS.find((d) => d.id === 'security');
      const panel = security?.panels.find((p) => p.id === id);
      const sql = security && panel ? grafanaPanel(security, panel, options).sql : '';

      // Assess: a failed login and a WAF block are security events (locked), a 401 is api_access
      expect(sql).toContain('"loglake_db"."audit_t"');
      expect(sql).toContain('"loglake_db"."logs_t"');
    },
  );

  it('quotes values as SQL literals, quotes doubled', () => {
    // Act
    const built = buildQuery(
      {
        kind: 'search',
        filter: {
          since: new Date('2001-02-03T03:04:05Z'),
          until: new Date('2001-02-04T04:05:06Z'),
          services: ["o'brien"],
        },
      },
      { dialect: 'athena', tables: [{ table: 'logs' }] },
    );
    const sql = grafanaSql(built);

    // Assess
    expect(sql).toContain(`"service" IN ('o''brien')`);
  });

  it('refuses SQL whose time bounds are not the range it was built for', () => {
    // Arrange: built for another range than the sentinel one
    const built = buildQuery(
      {
        kind: 'search',
        filter: { since: new Date('2026-01-01T00:00:00Z'), until: new Date('2026-01-02T00:00:00Z') },
      },
      { dialect: 'athena', tables: [{ table: 'logs' }] },
    );

    // Act / Assess
    expect(() => grafanaSql(built)).toThrow(/time bound holds/);
  });

  it('expands the macros as the data source does', () => {
    // Act
    const sql = expandAthenaMacros(
      '"timestamp" >= $__timeFrom() AND "timestamp" <= $__timeTo()',
      new Date('2026-11-30T08:00:00.250Z'),
      new Date('2026-11-30T10:00:00Z'),
    );

    // Assess
    expect(sql).toBe(
      `"timestamp" >= TIMESTAMP '2026-11-30 08:00:00' AND "timestamp" <= TIMESTAMP '2026-11-30 10:00:00'`,
    );
  });
});

describe('Grafana service variable', () => {
  const filtered = DASHBOARDS.filter((d) => d.serviceFilter);

  it('is offered by the dashboards the explorer offers a service filter on, the AI dashboard among them', () => {
    // Act
    const withVariable = DASHBOARDS.filter((d) => {
      const list = (grafanaDashboard(d, options).templating as { list: Array<{ name: string }> }).list;
      return list.some((v) => v.name === 'service');
    });

    // Assess
    expect(withVariable.map((d) => d.id)).toEqual(filtered.map((d) => d.id));
    expect(withVariable.map((d) => d.id)).toContain('ai');
  });

  it.each(filtered.map((d) => [d.id, d] as const))(
    '%s: a query variable listing the services of the range, "All" a custom value, every panel narrowed by it',
    (_id, d) => {
      // Act
      const json = grafanaDashboard(d, options) as {
        templating: {
          list: Array<{
            type: string;
            refresh: number;
            includeAll: boolean;
            allValue: string;
            datasource: { type: string };
            query: { rawSQL: string; format: number };
          }>;
        };
        panels: Array<{ targets: Array<{ rawSQL: string }> }>;
      };
      const variable = json.templating.list[0];

      // Assess
      expect(variable?.type).toBe('query');
      expect(variable?.datasource.type).toBe('grafana-athena-datasource');
      expect(variable?.refresh).toBe(2);
      expect(variable?.includeAll).toBe(true);
      expect(variable?.allValue).toBe(ALL_SERVICES);
      expect(variable?.query.rawSQL).toBe(grafanaServiceVariableSql(d, options));
      expect(variable?.query.rawSQL).toMatch(/^SELECT "service"\n/);
      expect(variable?.query.rawSQL).toContain('"dt" BETWEEN date_format($__timeFrom()');
      for (const p of json.panels) {
        expect(p.targets[0]?.rawSQL).toContain(
          `(\${service:sqlstring} = '__all__' OR "service" = \${service:sqlstring})`,
        );
      }
    },
  );

  it('is absent from dashboards without a service filter, whose SQL names no variable', () => {
    for (const d of DASHBOARDS.filter((x) => !x.serviceFilter)) {
      expect(grafanaServiceVariableSql(d, options)).toBeUndefined();
      for (const p of d.panels) expect(grafanaPanel(d, p, options).sql).not.toContain(`\${service`);
    }
  });

  it('expands as Grafana does: a service quoted with quotes doubled, "All" as its custom value', () => {
    // Arrange
    const ai = DASHBOARDS.find((d) => d.id === 'ai');
    const panel = ai?.panels[0];
    const sql = ai && panel ? grafanaPanel(ai, panel, options).sql : '';

    // Act
    const one = expandServiceVariable(sql, "o'brien");
    const all = expandServiceVariable(sql, undefined);

    // Assess
    expect(one).toContain(`('o''brien' = '__all__' OR "service" = 'o''brien')`);
    expect(all).toContain(`('__all__' = '__all__' OR "service" = '__all__')`);
    expect(`${one}${all}`).not.toContain(`\${service`);
  });
});

describe('loglake grafana', () => {
  it('writes the four dashboards and the provisioning files', async () => {
    // Arrange
    const out = mkdtempSync(join(tmpdir(), 'loglake-grafana-'));
    let printed = '';

    try {
      // Act
      const files = await grafanaCommand(
        { outDir: out, workgroup: 'wg', database: 'db', region: 'eu-west-1' },
        {
          stdout: (t) => {
            printed += t;
          },
          stderr: () => undefined,
          isTTY: false,
          columns: 80,
        },
      );

      // Assess
      expect(files.map((f) => f.slice(out.length + 1)).sort()).toEqual([
        'dashboards/loglake-ai.json',
        'dashboards/loglake-errors.json',
        'dashboards/loglake-security.json',
        'dashboards/loglake-tracing.json',
        'provisioning/dashboards/loglake.yaml',
        'provisioning/datasources/loglake-athena.yaml',
      ]);
      const errors = JSON.parse(readFileSync(join(out, 'dashboards/loglake-errors.json'), 'utf8')) as {
        refresh: string;
        panels: Array<{
          datasource: { type: string; uid: string };
          targets: Array<{ rawSQL: string; connectionArgs: { resultReuseMaxAgeInMinutes: number } }>;
        }>;
      };
      expect(errors.refresh).toBe('1m');
      expect(errors.panels).toHaveLength(4);
      expect(errors.panels.every((p) => p.datasource.type === 'grafana-athena-datasource')).toBe(true);
      expect(errors.panels[0]?.targets[0]?.rawSQL).toContain('"db"."logs"');
      expect(errors.panels[0]?.targets[0]?.connectionArgs.resultReuseMaxAgeInMinutes).toBe(1);
      const ds = readFileSync(join(out, 'provisioning/datasources/loglake-athena.yaml'), 'utf8');
      expect(ds).toContain('type: grafana-athena-datasource');
      expect(ds).toContain('workgroup: "wg"');
      expect(ds).toContain('uid: "loglake-athena"');
      expect(printed).toContain('wrote 6 files');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('says what is missing without a stack or workgroup', async () => {
    // Act / Assess
    await expect(
      grafanaCommand(
        { outDir: '/nonexistent' },
        { stdout: () => undefined, stderr: () => undefined, isTTY: false, columns: 80 },
      ),
    ).rejects.toThrow(/--workgroup and --database, or --stack/);
  });
});
