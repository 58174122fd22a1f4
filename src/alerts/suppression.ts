import type { SuppressionWindow, Weekday } from './config';

const WEEKDAY_INDEX: Record<string, number> = { Mon: 0, Tue: 1, Wed: 2, Thu: 3, Fri: 4, Sat: 5, Sun: 6 };
const DAYS: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Weekday and minute of day of `at` in `timeZone` (daylight saving applied by Intl). */
function localClock(at: Date, timeZone: string): { day: Weekday; minute: number } {
  let weekday = 'Mon';
  let hour = 0;
  let minute = 0;
  for (const p of formatter(timeZone).formatToParts(at)) {
    if (p.type === 'weekday') weekday = p.value;
    else if (p.type === 'hour') hour = Number(p.value);
    else if (p.type === 'minute') minute = Number(p.value);
  }
  return { day: DAYS[WEEKDAY_INDEX[weekday] ?? 0] ?? 'mon', minute: hour * 60 + minute };
}

function minuteOfDay(clock: string): number {
  const [h, m] = clock.split(':');
  return Number(h) * 60 + Number(m);
}

function previousDay(day: Weekday): Weekday {
  return DAYS[(DAYS.indexOf(day) + 6) % 7] ?? 'sun';
}

/** True when `at` falls inside the window: `[start, end)` or, recurring, `[from, to)` on one of its days. */
export function inWindow(window: SuppressionWindow, at: Date): boolean {
  if ('start' in window) {
    const t = at.getTime();
    return t >= Date.parse(window.start) && t < Date.parse(window.end);
  }
  const { day, minute } = localClock(at, window.timezone);
  const from = minuteOfDay(window.from);
  const to = minuteOfDay(window.to);
  if (from < to) return window.days.includes(day) && minute >= from && minute < to;
  // Crosses midnight: the part after midnight belongs to the window that started the day before.
  return (
    (window.days.includes(day) && minute >= from) || (window.days.includes(previousDay(day)) && minute < to)
  );
}

/** The first window containing `at`, or undefined when nothing suppresses. */
export function activeSuppression(
  windows: readonly SuppressionWindow[],
  at: Date,
): SuppressionWindow | undefined {
  return windows.find((w) => inWindow(w, at));
}

/** Human description of a window for messages and logs. */
export function describeWindow(window: SuppressionWindow): string {
  const what =
    'start' in window
      ? `${window.start} to ${window.end}`
      : `${window.days.join(',')} ${window.from}-${window.to} ${window.timezone}`;
  return window.reason ? `${what} (${window.reason})` : what;
}
