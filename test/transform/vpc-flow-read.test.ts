import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NO_LINE_OPTIONS } from '../../src/transform/sources/line';
import { lineOptionsOf } from '../../src/transform/sources/options';
import { holdsOutcomeWord, vpcFlowLine, vpcFlowLog } from '../../src/transform/sources/vpc-flow';

const dashOr = (a: fc.Arbitrary<string>) => fc.oneof({ weight: 5, arbitrary: a }, fc.constant('-'));
const num = (max: number) => fc.integer({ min: 0, max }).map(String);
const address = fc.oneof(
  fc.tuple(num(255), num(255), num(255), num(255)).map((p) => p.join('.')),
  fc.constantFrom('10.0.1.5', '192.168.0.9', '100.64.0.1', '2001:db8::1', 'fd00::7', 'fe80::1'),
);
const flow = fc
  .record({
    version: dashOr(fc.constantFrom('2', '5')),
    account: dashOr(fc.constant('123456789010')),
    iface: dashOr(fc.integer({ min: 0, max: 0xfffffff }).map((h) => `eni-${h.toString(16)}`)),
    src: dashOr(address),
    dst: dashOr(address),
    srcport: dashOr(num(65535)),
    dstport: dashOr(num(65535)),
    protocol: dashOr(fc.constantFrom('1', '6', '17', '58', '47')),
    packets: dashOr(num(1e6)),
    bytes: dashOr(num(1e9)),
    start: dashOr(num(2e9)),
    end: dashOr(num(2e9)),
    action: dashOr(fc.constantFrom('ACCEPT', 'REJECT')),
    status: fc.constantFrom('OK', 'NODATA', 'SKIPDATA', '-'),
  })
  .map((f) => Object.values(f).join(' '));

describe('VPC flow lines read once', () => {
  it('give what the JSON shape makes of the line’s fields, for any default-format line', () => {
    fc.assert(
      fc.property(flow, (line) => {
        const fields = vpcFlowLine.parse(line, NO_LINE_OPTIONS);
        const read = vpcFlowLine.read?.(line, NO_LINE_OPTIONS);
        if (fields === undefined) {
          expect(read).toBeUndefined();
          return;
        }
        expect(read).toEqual({ recognized: vpcFlowLog.read(fields) });
        // Key order is what the record's attributes keep: the same as the long way's.
        const direct = read && 'recognized' in read ? read.recognized : undefined;
        expect(Object.keys(direct?.rest ?? {})).toEqual(Object.keys(vpcFlowLog.read(fields).rest));
      }),
      { numRuns: 500 },
    );
  });

  it('a custom format the shape does not read (one address) still gives the line’s fields', () => {
    const format = ['dstaddr', 'dstport', 'action', 'log-status'].map((f) => `\${${f}}`).join(' ');
    const options = lineOptionsOf({ vpcFlowLogFormats: [format] });
    const line = '203.0.113.9 443 ACCEPT OK';
    expect(vpcFlowLine.read?.(line, options)).toEqual({
      object: { dstaddr: '203.0.113.9', dstport: '443', action: 'ACCEPT', 'log-status': 'OK' },
    });
  });
});

describe('holdsOutcomeWord', () => {
  const includesOne = (line: string) =>
    line.includes('ACCEPT') || line.includes('REJECT') || line.includes('DATA');
  const word = fc.constantFrom(
    'ACCEPT',
    'REJECT',
    'DATA',
    'NODATA',
    'ACCEP',
    'EJECT',
    'DAT',
    'ATA',
    'T',
    'TT',
    'A',
    ' ',
    '\t',
  );

  it('is true exactly when the line holds ACCEPT, REJECT or DATA', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.array(word, { maxLength: 8 }).map((w) => w.join('')),
          fc.string({ unit: 'binary' }),
        ),
        (line) => {
          expect(holdsOutcomeWord(line)).toBe(includesOne(line));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it.each([
    ['DATA at the start', 'DATA x', true],
    ['ACCEPT at the start', 'ACCEPT', true],
    ['REJECT at the end', 'x REJECT', true],
    ['a T too early for any word', 'AT DAT ACCEP', false],
    ['a Java frame', '\tat com.example.Api.handle(Api.java:10)', false],
    ['a long line', `${'T'.repeat(100_000)}DATA`, true],
  ])('%s', (_name, line, holds) => {
    expect(holdsOutcomeWord(line)).toBe(holds);
  });
});
