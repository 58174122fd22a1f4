/**
 * IANA time zones for timestamps written without one (`2026-01-02 03:04:05,123` from Python's
 * `asctime`, syslog's `Jan  2 03:04:05`): the wall time is read in the zone configured for the event's
 * service or source (`transform.timeZones`), with the zone's offset at that moment (daylight saving
 * included). Uses the runtime's ICU data through `Intl`; no dependency.
 */

/** A name `Intl` accepts and that names a zone (`Europe/Berlin`, `UTC`), not an offset (`+05:00`). */
export function isTimeZoneName(name: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$/.test(name)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** Offsets only change on quarter-hour boundaries in every zone of the IANA database. */
const BUCKET_MS = 15 * 60_000;
const MAX_CACHED = 4096;

/** One IANA zone: converts a wall time (written as if it were UTC) to the instant it names. */
export class TimeZone {
  /** The zone's canonical name (`America/New_York` for `america/new_york`). */
  readonly name: string;
  private readonly format: Intl.DateTimeFormat;
  private readonly offsets = new Map<number, number>();

  /** @throws RangeError when `name` is not a time zone (validate config with {@link isTimeZoneName}). */
  constructor(name: string) {
    this.format = new Intl.DateTimeFormat('en-US', {
      timeZone: name,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    this.name = this.format.resolvedOptions().timeZone;
  }

  /** The zone's offset from UTC at `instantMs`, in ms (east positive: +3,600,000 for CET). */
  offsetAt(instantMs: number): number {
    const bucket = Math.floor(instantMs / BUCKET_MS);
    const cached = this.offsets.get(bucket);
    if (cached !== undefined) return cached;
    const at = bucket * BUCKET_MS;
    const parts: Record<string, number> = {};
    for (const p of this.format.formatToParts(at)) if (p.type !== 'literal') parts[p.type] = Number(p.value);
    const wall = Date.UTC(
      parts.year ?? 1970,
      (parts.month ?? 1) - 1,
      parts.day ?? 1,
      parts.hour ?? 0,
      parts.minute ?? 0,
      parts.second ?? 0,
    );
    const offset = wall - at;
    if (this.offsets.size >= MAX_CACHED) this.offsets.clear();
    this.offsets.set(bucket, offset);
    return offset;
  }

  /**
   * The instant of a wall time in this zone. `wallMs` is the wall time read as if it were UTC. A wall
   * time in the hour a clock skips or repeats is read with one of the two offsets (an hour apart).
   */
  toUtc(wallMs: number): number {
    return wallMs - this.offsetAt(wallMs - this.offsetAt(wallMs));
  }
}

/** Where zone-less timestamps are read, from `transform.timeZones`. */
export interface TimeZoneConfig {
  /** Zone by service name (the record's `service`). */
  readonly services?: Readonly<Record<string, string>>;
  /** Zone by source: a CloudWatch Logs log group, or `<namespace>/<container>` for Kubernetes records. */
  readonly sources?: Readonly<Record<string, string>>;
  /** Zone for every other event; without it, zone-less times are read as UTC and flagged. */
  readonly default?: string;
}

/** Looks up the zone of an event: its service first, then its source, then the default. */
export class TimeZones {
  private readonly zones = new Map<string, TimeZone>();
  private readonly services: ReadonlyMap<string, TimeZone>;
  private readonly sources: ReadonlyMap<string, TimeZone>;
  private readonly fallback: TimeZone | undefined;

  constructor(config: TimeZoneConfig = {}) {
    const zone = (name: string): TimeZone => {
      let z = this.zones.get(name);
      if (!z) {
        z = new TimeZone(name);
        this.zones.set(name, z);
      }
      return z;
    };
    this.services = new Map(Object.entries(config.services ?? {}).map(([k, v]) => [k, zone(v)]));
    this.sources = new Map(Object.entries(config.sources ?? {}).map(([k, v]) => [k, zone(v)]));
    this.fallback = config.default === undefined ? undefined : zone(config.default);
  }

  /** Whether any zone is configured at all (lookups are skipped otherwise). */
  get empty(): boolean {
    return this.fallback === undefined && this.services.size === 0 && this.sources.size === 0;
  }

  zoneFor(service: string | undefined, source: string | undefined): TimeZone | undefined {
    return (
      (service === undefined ? undefined : this.services.get(service)) ??
      (source === undefined ? undefined : this.sources.get(source)) ??
      this.fallback
    );
  }
}
