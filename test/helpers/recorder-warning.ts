/**
 * `stderr` without the CLI's one warning that it writes audit events to the audit stream directly: the
 * emulator target deploys no access recorder (MiniStack's function URLs do not pass the verified caller).
 */
export function withoutRecorderWarning(stderr: string): string {
  return stderr.replace(/^loglake: warning: no access recorder is known \(.*\n/m, '');
}
