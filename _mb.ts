import { readFileSync } from 'node:fs';
import { scanPatterns } from './src/redact/detectors';
import { Redactor } from './src/redact/redactor';
const logs = readFileSync('/work/shared/corpus/redaction-public.jsonl','utf8').trim().split('\n').map(l => JSON.parse(l).log);
const strings: string[] = [];
const walk = (v: unknown) => { if (typeof v === 'string') strings.push(v); else if (v && typeof v === 'object') for (const x of Object.values(v)) walk(x); };
for (const l of logs) walk(l);
const total = strings.reduce((a, s) => a + s.length, 0);
console.log('strings', strings.length, 'chars', total);
const policy = { ipv4PrefixLength: 24, ipv6PrefixLength: 48 };
function bench(name: string, fn: (s: string) => void) {
  for (let i = 0; i < 20; i++) for (const s of strings) fn(s);
  const t = performance.now();
  for (let i = 0; i < 100; i++) for (const s of strings) fn(s);
  const ms = (performance.now() - t) / 100;
  console.log(name, ms.toFixed(3), 'ms per corpus pass', ((ms * 1e6) / strings.length).toFixed(0), 'ns/string');
}
bench('scanPatterns', (s) => scanPatterns(s, policy, []));
const red = new Redactor({ ...policy, extraSensitiveKeys: [], pseudonymKey: 'k' });
bench('redactor.text', (s) => red.text(s, {}));
const D = /\d/;
bench('digit test', (s) => D.test(s));
const SIMPLE = /[\w-]{16}/;
bench('run16 test', (s) => SIMPLE.test(s));
bench('json stringify', (s) => JSON.stringify(s));
