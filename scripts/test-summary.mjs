#!/usr/bin/env node
// Prints what a vitest run covered per tier, from its JSON report (`--reporter=json
// --outputFile.json=<file>`): files and tests passed, failed and skipped for the Trino tier, the emulator
// tier, the infrastructure gates and the rest, so a CI log shows each tier's count and that none was
// skipped. Exits 1 when the report is missing or a tier that must run has no passed test.
//   node scripts/test-summary.mjs <report.json> [required tier ...]
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

const [file, ...required] = process.argv.slice(2);
if (!file) {
  console.error('usage: test-summary.mjs <vitest-json-report> [required tier ...]');
  process.exit(2);
}
let report;
try {
  report = JSON.parse(readFileSync(file, 'utf8'));
} catch (e) {
  console.error(`test-summary: cannot read the vitest report ${file}: ${e.message}`);
  process.exit(1);
}

const TIERS = [
  ['trino', (f) => f.startsWith('test/trino/')],
  ['emulator', (f) => f.startsWith('test/emulator/')],
  ['infra', (f) => f.startsWith('test/infra/')],
  ['ui (browser)', (f) => f.startsWith('test/ui/')],
  ['package', (f) => f.startsWith('test/package/')],
  ['rest', () => true],
];
const rows = new Map(TIERS.map(([name]) => [name, { files: 0, passed: 0, failed: 0, skipped: 0 }]));
for (const result of report.testResults) {
  const path = relative(process.cwd(), result.name);
  const [name] = TIERS.find(([, match]) => match(path));
  const row = rows.get(name);
  row.files++;
  for (const a of result.assertionResults) {
    if (a.status === 'passed') row.passed++;
    else if (a.status === 'failed') row.failed++;
    else row.skipped++;
  }
}
const pad = (s, n) => String(s).padEnd(n);
console.log(`${pad('tier', 14)}${pad('files', 7)}${pad('passed', 8)}${pad('failed', 8)}skipped`);
for (const [name, r] of rows)
  console.log(`${pad(name, 14)}${pad(r.files, 7)}${pad(r.passed, 8)}${pad(r.failed, 8)}${r.skipped}`);
const missing = required.filter((t) => (rows.get(t)?.passed ?? 0) === 0);
if (missing.length > 0) {
  console.error(`test-summary: no test passed in the ${missing.join(', ')} tier(s)`);
  process.exit(1);
}
