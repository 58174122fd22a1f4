/**
 * Multi-line events: which consecutive text lines form one event, and where its stack trace begins.
 * A stack trace's lines attach to the event they belong to — Python `Traceback (most recent call
 * last):` … `ValueError: …` (chained tracebacks too), Java `\tat …`, `Caused by: …`, `... 12 more`,
 * Node `    at …`, Go `goroutine 1 [running]:` and its frames, .NET `   at …` — and, after a line that
 * matches the start-of-event pattern (`^\d{4}-\d{2}-\d{2}` by default), every following line that does
 * not look like an event of its own. Every line ends up in exactly one group (a property test holds
 * this), so nothing is lost or duplicated.
 */

import { firstNonBlank, isTrimmed } from './chars';

/** Default start-of-event pattern for plain text: a line beginning with a date. */
export const DEFAULT_START_PATTERN = String.raw`^\d{4}-\d{2}-\d{2}`;

/** One event's lines: `[start, end)`; lines from `traceAt` on are its stack trace. */
export interface LineGroup {
  readonly start: number;
  readonly end: number;
  /** First line of the stack trace (`end` when there is none). */
  readonly traceAt: number;
}

/** Lines that open a Python traceback, or chain one to the next. */
const PY_TRACEBACK = /^Traceback \(most recent call last\):\s*$/;
const PY_CHAIN =
  /^(?:During handling of the above exception, another exception occurred:|The above exception was the direct cause of the following exception:)\s*$/;
/** The line that ends a Python traceback: `ValueError: bad`, `KeyError`, `mod.CustomError: x`. */
const PY_EXCEPTION = /^[A-Za-z_][\w.]*(?::|$)/;
/** An indented stack frame: Java/.NET/Node `at`, Python `File "`, Java `... 12 more`, Go `/path.go:12`. */
export const FRAME =
  /^\s+(?:at\s|File "|\.\.\. \d+ (?:more|common frames omitted)|--- End of |\S+\.go:\d+|\S+\.(?:py|js|ts|java|kt|cs|rb|php):\d+|Caused by: |Suppressed: )/;
/** Java/.NET exception line, also as the head of a trace: `java.lang.IllegalStateException: boom`. */
export const QUALIFIED_EXCEPTION =
  /^(?:Exception in thread "[^"]*" |Unhandled exception\. )?((?:[A-Za-z_$][\w$]*\.)+[A-Za-z_$][\w$]*(?:Exception|Error|Throwable|Fault|Failure))(?::|$|\s)/;
/** `TypeError: x` (Node, Python) — a trace head only when frames follow. */
export const BARE_EXCEPTION = /^([A-Z][\w$]*(?:Error|Exception))(?::|$)/;
const CAUSE = /^(?:Caused by|Suppressed): /;
const GOROUTINE = /^goroutine \d+ \[[^\]]*\]:\s*$/;
/** Lines of a Go goroutine dump that are not indented: `main.main()`, `created by …`, `exit status 2`. */
const GO_DUMP_LINE = /^(?:[\w./*()[\]{}-]+\(.*\)|created by |exit status \d+|\[signal )/;
/**
 * A line that looks like an event of its own: a leading timestamp, a level word (`INFO`, `[warn]`,
 * `panic:`), a syslog priority, an access log's client address, JSON, a Lambda platform line.
 */
const EVENT_LIKE =
  /^(?:[[(]?\d{4}[-/]\d{2}[-/]\d{2}|[[(<]?(?:trace|debug|info|notice|warn|warning|error|err|fatal|crit|critical|panic|severe)(?:[\])>:\s]|$)|<\d{1,3}>|[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}|\d{2}\/[A-Z][a-z]{2}\/\d{4}|\{|\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3} |(?:START|END|REPORT) RequestId: |(?:INIT|RESTORE)_(?:START|REPORT) |XRAY TraceId: )/i;
const GO_SIGNAL = /^\[signal /;

function isIndented(line: string): boolean {
  const c = line.charCodeAt(0);
  return c === 32 || c === 9;
}

/**
 * {@link PY_TRACEBACK} or {@link PY_CHAIN}, asked only of lines that begin as they do (`T`, `D`): both are
 * tried on every line of a trace, most of which are frames, and a first character is cheaper than two
 * expressions.
 */
function isPyTraceback(line: string): boolean {
  return line.charCodeAt(0) === 84 && PY_TRACEBACK.test(line);
}
function isPyChain(line: string): boolean {
  const c = line.charCodeAt(0);
  return (c === 68 || c === 84) && PY_CHAIN.test(line);
}

/**
 * {@link FRAME}, with its most common lines (Java/.NET/Node `at `, Python `File "`) told by their
 * first word rather than by the expression; every other line is asked of {@link FRAME} itself.
 */
export function isFrame(line: string): boolean {
  let i = 0;
  while (i < line.length && isTrimmed(line.charCodeAt(i))) i++;
  if (i > 0 && i < line.length) {
    const c = line.charCodeAt(i);
    if (c === 97 && line.charCodeAt(i + 1) === 116 && isTrimmed(line.charCodeAt(i + 2))) return true;
    if (c === 70 && line.startsWith('File "', i)) return true;
  }
  return FRAME.test(line);
}

/** Whether `line` opens a stack trace by itself (Python traceback, Java/.NET exception line). */
export function isTraceHead(line: string): boolean {
  return isPyTraceback(line) || QUALIFIED_EXCEPTION.test(line);
}

type Mode = 'none' | 'python' | 'goroutine';

/** A start pattern that begins `^\d` (as the default does) and cannot match without that digit. */
const DIGIT_LED = /^\^\\d(?![?*]|\{0)/;

/**
 * Whether every line `startPattern` matches begins with a digit: it begins `^\d` (not optional), has no
 * alternative that could begin otherwise, and no flag that makes `^` match inside a line (`m`) or makes
 * `test` remember where it stopped (`g`, `y`). Then a line that begins otherwise is not tested: every
 * line of a trace is asked whether it starts an event.
 */
export function isDigitLed(startPattern: RegExp): boolean {
  const { source, flags } = startPattern;
  return DIGIT_LED.test(source) && !source.includes('|') && !/[gmy]/.test(flags);
}

/** `startPattern.test(line)`, skipped when `digitLed` and the line begins with no digit. */
export function startsEvent(line: string, startPattern: RegExp, digitLed: boolean): boolean {
  if (digitLed) {
    const c = line.charCodeAt(0);
    if (c < 48 || c > 57) return false;
  }
  return startPattern.test(line);
}

/**
 * Groups lines into events. `startPattern` marks lines that always begin an event; after one, lines
 * that look like nothing of their own continue it. A blank line belongs to an event only between two of
 * its lines (a chained Python traceback's); leading and trailing blank lines, which hold nothing, belong
 * to none.
 */
export function groupLines(lines: readonly string[], startPattern: RegExp | undefined): LineGroup[] {
  const groups: LineGroup[] = [];
  let start = -1;
  let traceAt = -1;
  let opensWithStart = false;
  let mode: Mode = 'none';
  const digitLed = startPattern !== undefined && isDigitLed(startPattern);

  const close = (end: number) => {
    if (start >= 0) groups.push({ start, end, traceAt: traceAt >= 0 ? traceAt : end });
  };
  /** First of the blank lines since the last non-blank one (-1: none). */
  let blankFrom = -1;
  const open = (i: number, line: string) => {
    close(blankFrom >= 0 ? blankFrom : i);
    start = i;
    opensWithStart = startPattern !== undefined && startsEvent(line, startPattern, digitLed);
    mode = isPyTraceback(line) ? 'python' : 'none';
    traceAt = isTraceHead(line) ? i : -1;
  };

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (firstNonBlank(line) < 0) {
      if (start >= 0 && blankFrom < 0) blankFrom = i;
      continue;
    }
    if (start < 0) {
      open(i, line);
      blankFrom = -1;
      continue;
    }
    if (startPattern !== undefined && startsEvent(line, startPattern, digitLed)) {
      open(i, line);
      blankFrom = -1;
      continue;
    }
    const kind = continuation(line, lines[i + 1], mode, opensWithStart);
    if (kind === undefined) {
      open(i, line);
      blankFrom = -1;
      continue;
    }
    blankFrom = -1;
    if (kind !== 'text' && traceAt < 0) traceAt = i;
    if (kind === 'python') mode = 'python';
    else if (kind === 'python-end') mode = 'none';
    else if (kind === 'goroutine') mode = 'goroutine';
  }
  close(blankFrom >= 0 ? blankFrom : lines.length);
  return groups;
}

/**
 * How `line`, which does not match the start pattern, continues the open event (`text`, or a kind of
 * trace line), or `undefined` if it does not.
 */
function continuation(
  line: string,
  next: string | undefined,
  mode: Mode,
  opensWithStart: boolean,
): 'text' | 'trace' | 'python' | 'python-end' | 'goroutine' | undefined {
  if (mode === 'python') {
    if (isIndented(line) || isPyChain(line) || isPyTraceback(line)) return 'python';
    if (PY_EXCEPTION.test(line)) return 'python-end';
  }
  if (isPyTraceback(line) || isPyChain(line)) return 'python';
  if (isIndented(line)) return isFrame(line) ? 'trace' : 'text';
  if (CAUSE.test(line) || QUALIFIED_EXCEPTION.test(line) || GO_SIGNAL.test(line)) return 'trace';
  if (BARE_EXCEPTION.test(line) && next !== undefined && isFrame(next)) return 'trace';
  if (GOROUTINE.test(line)) return 'goroutine';
  const eventLike = EVENT_LIKE.test(line);
  if (mode === 'goroutine' && !eventLike && GO_DUMP_LINE.test(line)) return 'goroutine';
  if (opensWithStart && !eventLike) return 'text';
  return undefined;
}

/**
 * The exception class a stack trace names: the last exception of a Python traceback (the one raised),
 * the first of a Java/.NET trace (the causes follow), a Node `TypeError`, or `panic` for a Go dump.
 */
export function exceptionType(lines: readonly string[]): string | undefined {
  let python: string | undefined;
  let inPython = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (isPyTraceback(line)) {
      inPython = true;
      continue;
    }
    if (inPython) {
      if (isIndented(line) || isPyChain(line) || firstNonBlank(line) < 0) continue;
      const m = /^([A-Za-z_][\w.]*)(?::|$)/.exec(line);
      if (m) python = m[1];
      inPython = false;
    }
  }
  if (python !== undefined) return python;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const qualified = QUALIFIED_EXCEPTION.exec(line);
    if (qualified) return qualified[1];
    const bare = BARE_EXCEPTION.exec(line);
    if (bare && lines[i + 1] !== undefined && isFrame(lines[i + 1] as string)) return bare[1];
    if (GOROUTINE.test(line)) return 'panic';
  }
  return undefined;
}

/** `… ToolError: tool failed` at the end of a message line (Node's `util.format` of an error). */
const TRAILING_EXCEPTION = /(?:^|\s)((?:[A-Za-z_$][\w$]*\.)*[A-Z][\w$]*(?:Error|Exception)): [^\n]*$/;

/**
 * The exception class of a stack trace that came in a field of its own (`stack`, `exc_info`,
 * `error.stack_trace`): as {@link exceptionType} for a Python, Java, .NET or Node trace; a Node trace
 * printed after its message (`failed ToolError: x` then `    at …` lines) names it at the message's
 * end. A Go goroutine dump names no class.
 */
export function stackErrorType(stack: string, message: string | undefined): string | undefined {
  const lines = stack.split('\n');
  const first = lines[0] ?? '';
  if (GOROUTINE.test(first)) return undefined;
  const own = exceptionType(lines);
  if (own !== undefined && own !== 'panic') return own;
  const bare = BARE_EXCEPTION.exec(first);
  if (bare) return bare[1];
  if (isIndented(first) && isFrame(first) && message !== undefined) {
    const lastLine = message.slice(message.lastIndexOf('\n') + 1);
    return TRAILING_EXCEPTION.exec(lastLine)?.[1];
  }
  return undefined;
}
