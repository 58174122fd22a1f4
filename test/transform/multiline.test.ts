import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_START_PATTERN,
  exceptionType,
  FRAME,
  groupLines,
  isDigitLed,
  isFrame,
  startsEvent,
} from '../../src/transform/multiline';
import { ARRIVAL, cwl, json, settings, transformOne } from './helpers';

const START = new RegExp(DEFAULT_START_PATTERN);

const PYTHON = [
  '2026-01-02 03:04:05,123 - billing.jobs - ERROR - invoice run failed',
  'Traceback (most recent call last):',
  '  File "/app/jobs.py", line 42, in run',
  '    total = compute(order)',
  '  File "/app/jobs.py", line 17, in compute',
  "    raise ValueError('negative total')",
  'ValueError: negative total',
];
const PYTHON_CHAINED = [
  'ERROR:root:lookup failed',
  'Traceback (most recent call last):',
  '  File "a.py", line 2, in <module>',
  "KeyError: 'x'",
  'During handling of the above exception, another exception occurred:',
  'Traceback (most recent call last):',
  '  File "a.py", line 4, in <module>',
  'myapp.errors.LookupFailed: x is missing',
];
const JAVA = [
  '2026-01-02 03:04:05.123 ERROR order failed',
  'java.lang.IllegalStateException: order 7 has no lines',
  '\tat com.example.OrderService.place(OrderService.java:42)',
  '\tat com.example.Api.handle(Api.java:10)',
  'Caused by: java.sql.SQLException: connection reset',
  '\tat org.postgresql.Driver.connect(Driver.java:1)',
  '\t... 12 more',
];
const NODE = [
  '2026-01-02T03:04:05.123Z ERROR request failed',
  "TypeError: Cannot read properties of undefined (reading 'id')",
  '    at handler (/var/task/index.js:12:20)',
  '    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)',
];
const GO = [
  'panic: runtime error: index out of range [5] with length 3',
  'goroutine 1 [running]:',
  'main.lookup(...)',
  '\t/app/main.go:12',
  'main.main()',
  '\t/app/main.go:8 +0x1d',
  'exit status 2',
];
const DOTNET = [
  '2026-01-02 03:04:05 ERROR payment failed',
  'System.InvalidOperationException: Sequence contains no elements',
  '   at System.Linq.ThrowHelper.ThrowNoElementsException()',
  '   at Payments.Service.Charge() in /src/Service.cs:line 31',
];

describe('groupLines', () => {
  it.each([
    ['a Python traceback', PYTHON, 1],
    ['a chained Python traceback', PYTHON_CHAINED, 1],
    ['a Java trace with causes', JAVA, 1],
    ['a Node stack', NODE, 1],
    ['a Go panic', GO, 1],
    ['a .NET trace', DOTNET, 1],
  ])('keeps %s with its event', (_name, lines, traceAt) => {
    expect(groupLines(lines, START)).toEqual([{ start: 0, end: lines.length, traceAt }]);
  });

  it('starts a new event at every line matching the start pattern', () => {
    const lines = [...JAVA, '2026-01-02 03:04:06.000 INFO [main] c.e.Api - next request'];
    expect(groupLines(lines, START).map((g) => [g.start, g.end])).toEqual([
      [0, JAVA.length],
      [JAVA.length, JAVA.length + 1],
    ]);
  });

  it('continues an event that matched the start pattern with lines that look like no event', () => {
    const lines = ['2026-01-02 03:04:05 query took long:', 'SELECT *', '  FROM orders', 'WHERE id = 7'];
    expect(groupLines(lines, START)).toEqual([{ start: 0, end: 4, traceAt: 4 }]);
  });

  it('keeps plain lines without a start apart, and lines that look like events of their own', () => {
    expect(groupLines(['hello', 'world'], START)).toHaveLength(2);
    expect(
      groupLines(['2026-01-02 03:04:05 a', 'INFO b', '[warn] c', '<13>Jan  2 03:04:05 h d'], START),
    ).toHaveLength(4);
  });

  it('uses a configured start pattern', () => {
    const lines = ['[svc] 10:00 started', 'details', '[svc] 10:01 stopped'];
    expect(groupLines(lines, /^\[svc\]/).map((g) => [g.start, g.end])).toEqual([
      [0, 2],
      [2, 3],
    ]);
  });
});

describe('exceptionType', () => {
  it.each([
    ['the raised one of a Python traceback', PYTHON.slice(1), 'ValueError'],
    ['the last of a chain', PYTHON_CHAINED.slice(1), 'myapp.errors.LookupFailed'],
    ['the top Java exception', JAVA.slice(1), 'java.lang.IllegalStateException'],
    ['a Node error', NODE.slice(1), 'TypeError'],
    ['panic for a goroutine dump', GO.slice(1), 'panic'],
    ['the .NET exception', DOTNET.slice(1), 'System.InvalidOperationException'],
  ])('names %s', (_name, lines, expected) => {
    expect(exceptionType(lines)).toBe(expected);
  });
});

describe('multi-line events through the transform', () => {
  it.each([
    ['Python', PYTHON, 'ERROR', 'invoice run failed', 'ValueError', 'billing.jobs'],
    ['Java', JAVA, 'ERROR', 'order failed', 'java.lang.IllegalStateException', null],
    ['Node', NODE, 'ERROR', 'request failed', 'TypeError', null],
    ['Go', GO, 'CRITICAL', 'panic: runtime error: index out of range [5] with length 3', 'panic', null],
    ['.NET', DOTNET, 'ERROR', 'payment failed', 'System.InvalidOperationException', null],
  ])(
    'a %s trace in one record is one event with its stack trace',
    (_name, lines, level, message, type, logger) => {
      const { records } = transformOne(`${lines.join('\n')}\n`);
      expect(records).toHaveLength(1);
      expect(records[0]).toMatchObject({ level, message, error_type: type });
      if (logger) expect(records[0]?.logger).toBe(logger);
      expect(records[0]?.stack_trace?.split('\n')).toEqual(lines.slice(1));
    },
  );

  it('keeps the event in its own category (errors), not the traceback lines in another', () => {
    const { output, records } = transformOne(PYTHON.join('\n'));
    expect(output.metadata?.partitionKeys.category).toBe('errors');
    expect(records[0]?.timestamp).toBe('2026-01-02T03:04:05.123Z');
  });

  it('reads a traceback without a log line: the exception line is the message, at ERROR', () => {
    const { records } = transformOne(PYTHON.slice(1).join('\n'));
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      level: 'ERROR',
      message: 'ValueError: negative total',
      error_type: 'ValueError',
    });
    expect(records[0]?.stack_trace?.split('\n')).toEqual(PYTHON.slice(1, -1));
  });

  it('reads a multi-line CloudWatch Logs event (Lambda Python) as one event', () => {
    const message = [
      '[ERROR]\t2026-01-02T03:04:05.123Z\t4990ed56-0826-4ffe-af98-6f0b04c59e5f\tfailed to charge',
      ...PYTHON.slice(1),
    ].join('\n');
    const { records } = transformOne(
      cwl({
        messageType: 'DATA_MESSAGE',
        owner: '1',
        logGroup: '/aws/lambda/pay',
        logStream: 's',
        subscriptionFilters: [],
        logEvents: [{ id: '1', timestamp: ARRIVAL, message }],
      }),
    );
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      level: 'ERROR',
      message: 'failed to charge',
      correlation_id: '4990ed56-0826-4ffe-af98-6f0b04c59e5f',
      error_type: 'ValueError',
      service: 'pay',
    });
  });

  it('reads a multi-line collector record (Fluent Bit multiline parser) as one event', () => {
    const record = json({ log: `${JAVA.join('\n')}\n`, stream: 'stderr', time: '2026-01-02T03:04:05.5Z' });
    const { records } = transformOne(record);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ level: 'ERROR', error_type: 'java.lang.IllegalStateException' });
  });

  it('joins a trace printed line by line through Docker json-file records packed in one Firehose record', () => {
    const data = NODE.map((line) =>
      json({ log: `${line}\n`, stream: 'stderr', time: '2026-01-02T03:04:05Z' }),
    ).join('\n');
    const { records } = transformOne(data);
    expect(records).toHaveLength(1);
    expect(records[0]?.stack_trace?.split('\n')).toEqual(NODE.slice(1));
  });

  it('honours transform.multiline.startPattern', () => {
    const s = settings('logs', { transform: { multiline: { startPattern: '^\\[svc\\]' } } });
    const { records } = transformOne('[svc] started\nmore detail\n[svc] stopped', s);
    expect(records.map((r) => r.message)).toEqual(['[svc] started\nmore detail', '[svc] stopped']);
  });
});

describe('multi-line grouping (properties)', () => {
  const traceLines = [
    'Traceback (most recent call last):',
    '  File "a.py", line 3, in f',
    '    raise ValueError',
    'ValueError: bad thing',
    'During handling of the above exception, another exception occurred:',
    '\tat a.B.c(B.java:10)',
    'Caused by: java.io.IOException: gone',
    '\t... 3 more',
    '    at f (/app/a.js:1:2)',
    'TypeError: nope',
    'goroutine 7 [running]:',
    'main.main()',
    'panic: boom',
    'java.lang.IllegalStateException: broken',
    '   at Svc.Run() in /src/Svc.cs:line 4',
    'exit status 2',
  ];
  const plain = fc
    .array(fc.constantFrom('alpha', 'beta', 'gamma', 'delta', 'order', 'shipped', 'late', '-', '(x)', ':'), {
      minLength: 1,
      maxLength: 5,
    })
    .map((w) => w.join(' '));
  const line = fc.oneof(
    fc.constantFrom(...traceLines),
    plain,
    plain.map((p) => `  ${p}`),
    plain.map((p) => `2026-01-02 03:04:05 ${p}`),
  );

  it('puts every non-blank line in exactly one group, in order, with the trace inside its group', () => {
    const blank = (l: string) => l.trim() === '';
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(line, fc.string({ unit: 'binary', minLength: 1 }), fc.constantFrom('', ' ', '\t')),
          {
            maxLength: 40,
          },
        ),
        (lines) => {
          const groups = groupLines(lines, START);
          let next = 0;
          for (const g of groups) {
            // Only blank lines fall between groups; a group starts and ends with a line that holds text.
            expect(lines.slice(next, g.start).every(blank)).toBe(true);
            expect(g.end).toBeGreaterThan(g.start);
            expect(blank(lines[g.start] as string)).toBe(false);
            expect(blank(lines[g.end - 1] as string)).toBe(false);
            expect(g.traceAt).toBeGreaterThanOrEqual(g.start);
            expect(g.traceAt).toBeLessThanOrEqual(g.end);
            next = g.end;
          }
          expect(lines.slice(next).every(blank)).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("ends every input line in exactly one event's message or stack trace, none lost, none duplicated", () => {
    // Lines whose text is kept verbatim (a head like `panic: boom` gives its level word to the level column).
    const verbatim = traceLines.filter((l) => !l.startsWith('panic'));
    const undated = fc.oneof(
      fc.constantFrom(...verbatim),
      plain,
      plain.map((p) => `  ${p}`),
    );
    fc.assert(
      fc.property(fc.array(undated, { minLength: 1, maxLength: 30 }), (lines) => {
        const { records } = transformOne(lines.join('\n'));
        const out = records.flatMap((r) => [
          ...r.message.split('\n'),
          ...(r.stack_trace === null ? [] : r.stack_trace.split('\n')),
        ]);
        expect(out.sort()).toEqual([...lines].sort());
      }),
      { numRuns: 300 },
    );
  });
});

describe('line tests that skip their expression (fast paths)', () => {
  /** Lines built from the pieces the fast paths look at: indentation, `at`, `File "`, digits, CRs. */
  const piece = fc.constantFrom(
    ' ',
    '  ',
    '\t',
    '\u00a0',
    '\u3000',
    '\r',
    'at',
    'at ',
    'at\t',
    'attr',
    'File "',
    'File ',
    'x.py:12',
    '... 3 more',
    'Caused by: ',
    '2026-01-02',
    '7',
    'T',
    '(',
  );
  const frameLike = fc.oneof(
    fc.array(piece, { maxLength: 8 }).map((p) => p.join('')),
    fc.string({ unit: 'binary' }),
  );

  it('isFrame agrees with the frame expression, for any line', () => {
    fc.assert(
      fc.property(frameLike, (line) => {
        expect(isFrame(line)).toBe(FRAME.test(line));
      }),
      { numRuns: 2000 },
    );
  });

  it.each([
    ['a Java frame', '\tat com.example.Api.handle(Api.java:10)', true],
    ['a Node frame', '    at handler (/var/task/index.js:12:20)', true],
    ['a Python frame', '  File "/app/jobs.py", line 42, in run', true],
    ['a frame indented with a no-break space', '\u00a0at x', true],
    ['a frame ending in CR', '\tat a.B.c(B.java:10)\r', true],
    ['a very long frame', `\tat ${'a.'.repeat(50_000)}c(B.java:1)`, true],
    ['an indented word that starts with at', '  attribute: 7', false],
    ['`at` at the end of the line', '\tat', false],
    ['`at` then CR only', '\tat\r', true],
    ['`File` without its quote', '  File a.py', false],
    ['a frame word without indentation', 'at com.example.Api.handle(Api.java:10)', false],
    ['a very long indented text line', `  ${'word '.repeat(20_000)}`, false],
  ])('isFrame: %s', (_name, line, frame) => {
    expect(isFrame(line)).toBe(frame);
    expect(FRAME.test(line)).toBe(frame);
  });

  it.each([
    [DEFAULT_START_PATTERN, '', true],
    [String.raw`^\d+ `, '', true],
    [String.raw`^\d{1}`, 'i', true],
    [String.raw`^\d?x`, '', false],
    [String.raw`^\d*x`, '', false],
    [String.raw`^\d{0,4}x`, '', false],
    [String.raw`^\d{4}|^START`, '', false],
    [String.raw`^\d{4}`, 'm', false],
    [String.raw`^\d{4}`, 'g', false],
    [String.raw`^\d{4}`, 'y', false],
    [String.raw`\d{4}`, '', false],
    [String.raw`^\D`, '', false],
  ])('isDigitLed(/%s/%s) is %s', (source, flags, digitLed) => {
    expect(isDigitLed(new RegExp(source, flags))).toBe(digitLed);
  });

  it('startsEvent agrees with the pattern for any line, when the pattern is digit-led', () => {
    const patterns = [DEFAULT_START_PATTERN, String.raw`^\d+ `, String.raw`^\d{2}:\d{2}`].map(
      (p) => new RegExp(p),
    );
    fc.assert(
      fc.property(fc.constantFrom(...patterns), frameLike, (pattern, line) => {
        expect(isDigitLed(pattern)).toBe(true);
        expect(startsEvent(line, pattern, true)).toBe(pattern.test(line));
      }),
      { numRuns: 2000 },
    );
  });

  it('groups lines alike under a stateful (global) start pattern as under its plain twin', () => {
    const lines = ['2026-01-02 a', '  at x', '2026-01-03 b', 'continued', '2026-01-04 c'];
    // A global expression remembers where it stopped: its lines are tested, never skipped.
    expect(groupLines(lines, /^\d{4}/g)).toEqual(groupLines(lines, /^\d{4}/g));
    expect(groupLines(lines, new RegExp(DEFAULT_START_PATTERN))).toEqual([
      { start: 0, end: 2, traceAt: 1 },
      { start: 2, end: 4, traceAt: 4 },
      { start: 4, end: 5, traceAt: 5 },
    ]);
  });
});
