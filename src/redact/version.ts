/**
 * The version of the redaction detector set: what the compliance report's rescan names as "the current
 * detectors", so a report can be compared with the detectors that wrote the lake. It is not the package
 * version: a release that leaves the detectors alone keeps it, a change to any of them bumps it.
 *
 * Each version is recorded with the fingerprint of the detector sources it names (every file of
 * `src/redact/` but this one: SHA-256 over their code, comments and blank lines left out).
 * `test/redact/version.test.ts` computes the fingerprint of the sources as they are and fails unless it is
 * the last entry's, so a detector change cannot ship under the version of the set before it. To change a
 * detector: append an entry with the next version and the fingerprint the test prints; never edit one.
 */
export interface DetectorSetVersion {
  readonly version: number;
  /** SHA-256 (hex) of the detector sources this version names. */
  readonly fingerprint: string;
  /** What changed, in a few words. */
  readonly change: string;
}

export const DETECTOR_SET_HISTORY: readonly [DetectorSetVersion, ...DetectorSetVersion[]] = [
  {
    version: 1,
    fingerprint: 'dd1262de98e25a295dbe8351de67b0380d15c971f28d2f81e44e4ef4089effcb',
    change:
      'first recorded set: field names, provider tokens, Basic credentials, numbers with checksums, e-mail, PEM, URL passwords, IPs, prose secrets',
  },
  {
    version: 2,
    fingerprint: '5a7a1221fbd5e2d2bf7a7884f14331641782a73b5c57c2ae68496a5c76b6e129',
    change:
      'prose user ids of five characters (`uid 7`) are pseudonymized; a Bearer credential under 20 characters also counts when it mixes case inside (`AbCdEfGhIjKlMnO`)',
  },
  {
    version: 3,
    fingerprint: 'be2d97dfe1a2ddecfda0942abd25dc4ea62c65b1a68c71bc57abdb30eb555f6d',
    change:
      'no detector changed: the text cache is not looked up for values it never stores (4 or more digits); same outputs',
  },
  {
    version: 4,
    fingerprint: 'c08d8970b2db2fd3ea69288a543d1e25ad253f331b971416cefec9caeead826d',
    change:
      'no detector changed: texts of 512 characters and more (stack traces in an exception storm) are remembered whole; same outputs',
  },
  {
    version: 5,
    fingerprint: 'f73a2cbe83133144d702bcc168abd82c3e0942ed2552005ef689f11f50600929',
    change:
      'no detector changed: the long-text cache counts the characters it holds right when a collision meets a full cache; same outputs',
  },
  {
    version: 6,
    fingerprint: 'c46cd8a385152e8eb03f59047df3bd0860a1c740ea3f87da5102b9f22f07f698',
    change:
      'no detector changed: a cache miss remembers its scan without a wrapper object or a copy; same outputs',
  },
  {
    version: 7,
    fingerprint: 'd9ce78b6e9a226f965fe7e6057a6d77c80a63c43ac9aef1e24a01ef7aac937e5',
    change:
      'a two-word sensitive name split by a dot (`api.key`, `{"card":{"number":…}}`) is recognised across the segments',
  },
  {
    version: 8,
    fingerprint: '1c8adea910e7019cc59c9072ff62a3df12ebdff08ef8b595284c491b0b5c4094',
    change:
      'KEY=VALUE also as Ruby, PHP and Perl print hashes (`"key"=>"value"`, `[key] => value`), nested form names (`user[password]=`) and command-line options (`--password=`)',
  },
  {
    version: 9,
    fingerprint: 'fbe2957dc6914509a1d006247a7206b6a53cbd2c3d432e7c559febec2ea4264e',
    change:
      'the keys of a walked object (JSON inside a string, the compact oversized form) are redacted like values, so a map keyed by e-mail or address keeps neither',
  },
  {
    version: 10,
    fingerprint: 'fc599d7f92c3f4c25c63116b0376d1ef5bebe9e3f64b6fb6b89a4fbee1efe3c4',
    change:
      '`--password x` options; one-time-code names (mfa/verification/recovery/backup code, totp, one-time code); internationalized e-mail; dotted cards; base64 blobs holding an AWS key id, PEM private key or JWT; JSON objects after text; a called identifier path (`token => token.trim()`) is code; a quoted key gets one marker',
  },
  {
    version: 11,
    fingerprint: 'c770161f90937d076b466d3f365e24f62b678c093e0b40f33236ce04ff8b5d64',
    change:
      'no detector changed: JSON inside a string that is rewritten keeps integers beyond 2^53 digit for digit (they were rounded to a double), checks their exact digits as text, and pseudonymizes such a user id from its exact digits',
  },
  {
    version: 12,
    fingerprint: '9374f793e4cdd3bc3748fafd2eefe969a281290e5c1b6cef2a769ed4b9b86066',
    change:
      'base64-wrapped AWS key ids were kept when the blob was 27 characters and its padding (a key id alone) or in upper case only (a repetitive key id): the run starts at 27 characters and needs no lower case',
  },
];

const current = DETECTOR_SET_HISTORY[DETECTOR_SET_HISTORY.length - 1] ?? DETECTOR_SET_HISTORY[0];

/** The version of the detectors in this build. */
export const DETECTOR_SET_VERSION: number = current.version;

/** How a report names the detectors it rescanned with: version and the start of the fingerprint. */
export const DETECTOR_SET_LABEL = `redaction detector set ${current.version} (fingerprint ${current.fingerprint.slice(0, 12)})`;
