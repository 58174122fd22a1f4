/** The controls each evidence item cites, per standard chosen with `--standard`. */
import { describe, expect, it } from 'vitest';
import { assembleReport, EVIDENCE_ITEMS, type ItemBody, STANDARDS } from '../../src/compliance/report';
import { loglake } from '../helpers/cli';

const body: ItemBody = { title: 't', source: 's', status: 'ok', summary: [], columns: [], rows: [] };
const bodies = Object.fromEntries(EVIDENCE_ITEMS.map((id) => [id, body])) as Record<
  (typeof EVIDENCE_ITEMS)[number],
  ItemBody
>;
const report = (standards: Parameters<typeof assembleReport>[2]['standards']) =>
  assembleReport(bodies, { engine: 'duckdb', dataDir: '/lake' } as never, {
    since: new Date(0),
    until: new Date(1),
    standards,
    now: new Date(2),
  });
const controlsOf = (standards: Parameters<typeof report>[0], id: string) =>
  report(standards).items.find((i) => i.id === id)?.controls;

describe('compliance-report --standard', () => {
  it('cites ISO/IEC 42001 controls on the AI system event logs and its monitoring, named with the standard', () => {
    expect(STANDARDS).toContain('iso42001');
    expect(controlsOf(['iso42001'], 'accessLog')).toEqual(['42001 A.6.2.8']);
    expect(controlsOf(['iso42001'], 'integrity')).toEqual(['42001 A.6.2.8']);
    expect(controlsOf(['iso42001'], 'volume')).toEqual(['42001 A.6.2.6', '42001 9.1']);
    // With every standard, ISO 27001's Annex A and ISO 42001's stay apart.
    expect(controlsOf([...STANDARDS], 'accessLog')).toEqual([
      'A.8.15',
      'A.8.16',
      '42001 A.6.2.8',
      'CC7.2',
      'Art. 30',
      'Art. 32(1)(d)',
    ]);
  });

  it('is offered by the command, and an unknown standard is refused by name', async () => {
    const help = await loglake(['compliance-report', '--help']);
    expect(help.stdout).toContain('"iso42001"');
    const wrong = await loglake(['compliance-report', '--standard', 'iso9001', '--data-dir', '/nonexistent']);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toContain('iso9001');
  });
});
