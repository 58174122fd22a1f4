/**
 * `loglake subject export|erase|status|cancel --user <id>`: a person's right of access (every record
 * carrying their pseudonym, across the categories the persona may read, plus a summary) and right to
 * erasure (destroy their subject key: every stored pseudonym of theirs becomes unlinkable, locked objects
 * untouched), optionally after a cancellation window. Only the personas `privacy.personas` of the config
 * names may run them; each export, erase and cancel is recorded as an event in the `audit` category with
 * the subject's lake-keyed reference, never the raw id.
 *
 * Scheduled erasures are carried out locally by every `loglake subject` run and, while it runs, by
 * `loglake local` (at start and once a minute): `src/privacy/local-erasures.ts`; on the deployed lake
 * by the executor Lambda on its schedule (`lambdas/erase`), from the request table.
 */
import { type Command, Option } from 'commander';
import { z } from 'zod';
import { LocalAccessSink } from '../../audit/local-sink';
import type { LogLakeConfig } from '../../config';
import { InputError } from '../../errors';
import { pseudonymKey } from '../../local/datadir';
import { type PrivacyRequest, privacyLogEvent } from '../../privacy/audit';
import { lookupPseudonyms } from '../../privacy/keyring';
import { runLocalDueErasures } from '../../privacy/local-erasures';
import { describePurge, type PurgeOutcome, purgeLocalSubject } from '../../privacy/local-purge';
import { LocalSubjectRequestStore } from '../../privacy/local-requests';
import { LocalSubjectKeyStore } from '../../privacy/local-store';
import { NO_SUBJECT_PSEUDONYM } from '../../privacy/lookup';
import type { EraseRequest, SubjectRequestStore } from '../../privacy/requests';
import type { SubjectKeyStore } from '../../privacy/store';
import { subjectRef } from '../../privacy/subject';
import { addToSummary, emptySummary, type SubjectSummary } from '../../privacy/summary';
import { decodeSearchRow } from '../../query/decode';
import { CATEGORIES, PERSONAS, type Persona } from '../../schema';
import { parseDuration } from '../../time';
import { callerIdentity, localPrincipal, recordPrivacyOnAws } from '../access';
import {
  athenaLakeKey,
  athenaSubjectKeys,
  athenaSubjectRequests,
  resolveAthenaTarget,
  STACK_OUTPUTS,
} from '../aws';
import { addTargetOptions, filterFlags, formatSchema, parseFlags, targetFlags } from '../flags';
import { RecordWriter } from '../format';
import { type CliIO, processIO } from '../io';
import { dataDirOf, listOption, loadConfig } from '../options';
import { openOutput, STDOUT_PATH } from '../output';
import { resolveQueryTarget } from '../target';
import { requireLocalLake } from '../target/local';

/** Longer than the longest default retention (audit, 7 years): an export covers everything kept. */
export const EXPORT_SINCE = '2600d';

/**
 * How far back an export looks unless `--since` says: {@link EXPORT_SINCE}, or the longest expiry of the
 * config plus the day S3's lifecycle may take, when a category is kept longer (up to 100 years).
 */
export function exportSince(config: LogLakeConfig): string {
  const longest = Math.max(...CATEGORIES.map((c) => config.categories[c].expiryDays)) + 1;
  return longest > parseInt(EXPORT_SINCE, 10) ? `${longest}d` : EXPORT_SINCE;
}

const EXPORT_FORMATS = ['ndjson', 'json', 'csv'] as const;

// parseFlags names the flag: `--persona: required, one of developer, ops, …`.
const personaSchema = z.enum(PERSONAS, { error: `required, one of ${PERSONAS.join(', ')}` });
const userSchema = z
  .string({ error: '--user <id> is required: the raw user id' })
  .refine((s) => s.trim() !== '', '--user is empty');

const commonFlags = {
  user: userSchema,
  persona: personaSchema,
  dataDir: z.string().optional(),
  pseudonymKeyFile: z.string().optional(),
  athena: z.boolean().optional(),
  stack: z.string().optional(),
  region: z.string().optional(),
  pseudonymSecret: z.string().optional(),
  auditStream: z.string().optional(),
  config: z.string().optional(),
};

export const eraseFlags = z.strictObject({
  ...commonFlags,
  reason: z.string({ error: '--reason is required: why (recorded in the audit event)' }).min(1),
  /** Cancellation window in ms (`--after 7d`); 0 or absent: now. */
  after: z.number().int().nonnegative().optional(),
  /**
   * Also rewrite the unlocked categories' files without the person's rows; on a stack, the executor
   * Lambda does it when the request is due (even with no `--after`).
   */
  purge: z.boolean().optional(),
});
export type EraseFlags = z.output<typeof eraseFlags>;

export const cancelFlags = z.strictObject({ ...commonFlags, reason: z.string().min(1).optional() });
export type CancelFlags = z.output<typeof cancelFlags>;

export const statusFlags = z.strictObject(commonFlags);
export type StatusFlags = z.output<typeof statusFlags>;

export const exportFlags = z.strictObject({
  ...targetFlags,
  since: filterFlags.since,
  until: filterFlags.until,
  category: filterFlags.category,
  user: userSchema,
  persona: personaSchema,
  output: z.string().min(1).optional(),
  format: formatSchema(EXPORT_FORMATS),
});
export type ExportFlags = z.output<typeof exportFlags>;

/** What an erase did. */
export interface EraseResult {
  readonly subject: string;
  readonly store: string;
  /** False when there was no key (already erased, or never seen), or the erasure is scheduled. */
  readonly destroyed: boolean;
  /** When a scheduled erasure is due (`--after`). */
  readonly due?: string;
  /** What `--purge` rewrote. */
  readonly purge?: PurgeOutcome;
}

/** What `subject status` found. */
export interface SubjectStatus {
  readonly subject: string;
  readonly store: string;
  readonly key: 'present' | 'absent';
  /** The latest erasure request, if the target keeps them (locally, and stacks with a request table). */
  readonly request: EraseRequest | undefined;
}

/** @throws InputError unless the config lets `persona` run subject requests. */
export function requirePrivacyPersona(config: LogLakeConfig, persona: Persona): void {
  if (!config.privacy.personas.includes(persona)) {
    throw new InputError(
      `--persona ${persona} may not run subject requests; privacy.personas in the config allows ${
        config.privacy.personas.join(', ') || 'none'
      }`,
    );
  }
}

/** The lake key, the key store, where the audit event goes, and who is asking. */
interface PrivacyTarget {
  readonly lakeKey: string | Uint8Array;
  readonly store: SubjectKeyStore;
  /** Erasure requests with a window; none for a stack deployed before the request table existed. */
  readonly requests: SubjectRequestStore | undefined;
  /** The local lake (whose due erasures each command carries out first), not the deployed one. */
  readonly local: boolean;
  readonly principal: () => Promise<string>;
  /** Records the request's event in the audit category; resolves once it is written. */
  readonly record: (request: PrivacyRequest) => Promise<void>;
}

type CommonFlags = z.output<z.ZodObject<typeof commonFlags>>;

async function privacyTarget(
  flags: Omit<CommonFlags, 'user'>,
  config: LogLakeConfig,
): Promise<PrivacyTarget> {
  if (flags.athena || flags.stack !== undefined) {
    const target = await resolveAthenaTarget({ ...flags, workgroup: 'unused', database: 'unused' });
    return {
      lakeKey: await athenaLakeKey(target),
      store: athenaSubjectKeys(target),
      requests: athenaSubjectRequests(target),
      local: false,
      principal: () => callerIdentity(target.region),
      record: (request) => recordPrivacyOnAws(target, request),
    };
  }
  const dataDir = dataDirOf(flags);
  requireLocalLake(dataDir);
  const target: PrivacyTarget = {
    lakeKey: pseudonymKey(dataDir, flags.pseudonymKeyFile, false),
    store: LocalSubjectKeyStore.forDataDir(dataDir),
    requests: LocalSubjectRequestStore.forDataDir(dataDir),
    local: true,
    principal: async () => localPrincipal(),
    record: (request) => new LocalAccessSink(dataDir, config).recordLogEvent(privacyLogEvent(request)),
  };
  return target;
}

async function prepare(flags: CommonFlags, command: string, io: CliIO) {
  const config = loadConfig(flags.config);
  requirePrivacyPersona(config, flags.persona);
  const target = await privacyTarget(flags, config);
  if (target.local) {
    const done = await runLocalDueErasures(dataDirOf(flags), config, localPrincipal());
    for (const d of done)
      io.stderr(
        `loglake subject ${command}: carried out the due erasure of subject ${short(d.request.subject)}\n`,
      );
  }
  return { config, target, subject: subjectRef(target.lakeKey, flags.user) };
}

const short = (ref: string) => ref.slice(0, 16);

/**
 * Destroys the subject's key now (idempotent), or with `after` records an erasure request due then
 * (withdrawn by {@link cancelCommand}); either way records the request in the audit category. A failure
 * to record exits non-zero after saying what was done; running it again records it.
 */
export async function eraseCommand(flags: EraseFlags, io: CliIO = processIO): Promise<EraseResult> {
  const { config, target, subject } = await prepare(flags, 'erase', io);
  const principal = await target.principal();
  const time = new Date();
  const base = {
    time: time.toISOString(),
    principal,
    persona: flags.persona,
    subject,
    store: target.store.location,
    reason: flags.reason,
  };
  const after = flags.after ?? 0;
  // A pending request (not yet due: a due one was carried out above) is refused, not replaced: the
  // replacement would drop its purge, or on a stack a purge the executor is part way through.
  const existing = await target.requests?.get(subject);
  if (existing?.state === 'pending') {
    throw new InputError(
      `subject ${short(subject)} already has an erasure due ${existing.due}; run subject cancel first to change it`,
    );
  }
  // On the deployed lake the executor Lambda purges (Athena rewrites, for up to its 15 minutes a run):
  // the request is recorded due now (or after the window) and carried out on its next run, purge first.
  if (after > 0 || (flags.purge && !target.local)) {
    if (!target.requests) {
      throw new InputError(
        `subject erase ${after > 0 ? '--after' : '--purge'}: stack has no erasure request table (output ${STACK_OUTPUTS.subjectRequestTable}); deploy this version of loglake, or erase without --after when the window has passed`,
      );
    }
    const due = new Date(time.getTime() + after).toISOString();
    // The rows are found by the pseudonym; the raw id is not kept, so the request keeps the pseudonym
    // until it is carried out (the key, still there, links the two anyway until then).
    const pseudonym = flags.purge
      ? (await lookupPseudonyms(target.lakeKey, target.store, [flags.user])).get(flags.user)
      : undefined;
    const recorded = await target.requests.replace(existing, {
      subject,
      state: 'pending',
      requested: base.time,
      due,
      reason: flags.reason,
      principal,
      persona: flags.persona,
      purge: flags.purge === true,
      ...(pseudonym !== undefined ? { pseudonym } : {}),
    });
    if (!recorded) {
      throw new InputError(
        `subject ${short(subject)}: another erasure request was recorded meanwhile; nothing was scheduled, see subject status`,
      );
    }
    io.stdout(
      `erasure${flags.purge ? ' with purge' : ''} of subject ${short(subject)} scheduled for ${due}${target.local ? '' : ` (the executor carries it out within its schedule, 60 min by default, after that${flags.purge ? "; the purge rewrites the unlocked categories' objects first and may take several runs, the key stays until it is done" : ''})`}; withdraw it before then with: loglake subject cancel --user <id> --persona ${flags.persona}\n`,
    );
    await target.record({
      ...base,
      action: 'erase-scheduled',
      outcome: `key destroyed at ${due} unless cancelled`,
      due,
    });
    io.stdout('recorded the request in the audit category\n');
    return { subject, store: target.store.location, destroyed: false, due };
  }
  // The rows are found by the pseudonym, which needs the key: purge first, then destroy. A crash in
  // between leaves the key, and running the command again purges nothing more and destroys it.
  let purge: PurgeOutcome | undefined;
  let purgeNote: string | undefined;
  if (flags.purge) {
    const pseudonym = (await lookupPseudonyms(target.lakeKey, target.store, [flags.user])).get(flags.user);
    if (pseudonym === undefined) {
      purgeNote = 'nothing purged: without the key the rows cannot be found (they are already anonymized)';
    } else {
      purge = await purgeLocalSubject(dataDirOf(flags), config, pseudonym);
      purgeNote = describePurge(purge);
    }
    io.stdout(`${purgeNote}\n`);
    // Purged rows cannot be found again: what was purged waits on a request due now until the event
    // is recorded. If destroying the key or recording fails, the next run of the due erasures (any
    // `subject` command, `loglake local`) records these counts rather than "no key" alone.
    await target.requests?.put({
      subject,
      state: 'pending',
      requested: base.time,
      due: base.time,
      reason: flags.reason,
      principal,
      persona: flags.persona,
      purge: true,
      purged: purgeNote,
    });
  }
  const destroyed = await target.store.destroy(subject);
  const outcome = destroyed
    ? `subject ${short(subject)} key destroyed`
    : `subject ${short(subject)} had no key (already erased, or never seen): nothing to destroy`;
  io.stdout(
    `${outcome} in ${target.store.location}\n` +
      (destroyed
        ? 'every stored pseudonym of this subject, in every category, locked objects and copies included, can no longer be linked to the id; new records of the id get a new key\n'
        : ''),
  );
  await target.record({
    ...base,
    action: 'erase',
    outcome: destroyed ? 'key destroyed' : 'no key',
    ...(purgeNote !== undefined ? { purged: purgeNote } : {}),
  });
  // Done only once recorded: until then a pending `--purge` request keeps what was purged (above).
  await target.requests?.put({
    subject,
    state: 'done',
    requested: base.time,
    due: base.time,
    reason: flags.reason,
    principal,
    persona: flags.persona,
    closed: base.time,
    purge: flags.purge === true,
    closedBy: principal,
    outcome: [destroyed ? 'key destroyed' : 'no key', purgeNote].filter(Boolean).join('; '),
  });
  io.stdout('recorded the request in the audit category\n');
  return { subject, store: target.store.location, destroyed, ...(purge ? { purge } : {}) };
}

/** Withdraws a pending scheduled erasure. @throws InputError when none is pending (too late, or none). */
export async function cancelCommand(flags: CancelFlags, io: CliIO = processIO): Promise<EraseRequest> {
  const { target, subject } = await prepare(flags, 'cancel', io);
  if (!target.requests)
    throw new InputError(
      `subject cancel: stack has no erasure request table (output ${STACK_OUTPUTS.subjectRequestTable}), so nothing is scheduled there`,
    );
  const existing = await target.requests.get(subject);
  if (existing?.state !== 'pending') {
    throw new InputError(
      existing
        ? `subject ${short(subject)} has no pending erasure: the last one was ${existing.state} at ${existing.closed}`
        : `subject ${short(subject)} has no erasure request`,
    );
  }
  if (existing.claimed !== undefined) {
    throw new InputError(
      `subject ${short(subject)}: the erasure due ${existing.due} is being carried out (since ${existing.claimed}); too late to cancel`,
    );
  }
  const principal = await target.principal();
  const time = new Date().toISOString();
  // A withdrawn request keeps no pseudonym (see eraseRequestSchema).
  const { pseudonym: _dropped, ...kept } = existing;
  const cancelled: EraseRequest = {
    ...kept,
    state: 'cancelled',
    closed: time,
    closedBy: principal,
    outcome: `withdrawn${flags.reason ? `: ${flags.reason}` : ''}`,
  };
  // Conditional: if the executor claimed it meanwhile, it is carried out and this cancels nothing.
  if (!(await target.requests.replace(existing, cancelled))) {
    throw new InputError(
      `subject ${short(subject)}: the erasure request changed meanwhile (carried out, or replaced); nothing was withdrawn, see subject status`,
    );
  }
  io.stdout(`erasure of subject ${short(subject)} (due ${existing.due}) withdrawn; the key stays\n`);
  await target.record({
    time,
    action: 'cancel',
    principal,
    persona: flags.persona,
    subject,
    store: target.store.location,
    outcome: `scheduled erasure due ${existing.due} withdrawn`,
    due: existing.due,
    ...(flags.reason !== undefined ? { reason: flags.reason } : {}),
  });
  io.stdout('recorded the request in the audit category\n');
  return cancelled;
}

/** Whether the subject has a key, and their latest erasure request. Read-only (no audit event). */
export async function statusCommand(flags: StatusFlags, io: CliIO = processIO): Promise<SubjectStatus> {
  const { target, subject } = await prepare(flags, 'status', io);
  const key = (await target.store.get([subject])).has(subject) ? 'present' : 'absent';
  const request = await target.requests?.get(subject);
  const lines = [
    `subject ${short(subject)} in ${target.store.location}`,
    `  key:     ${key === 'present' ? 'present (records of the id are linkable to it)' : request?.state === 'done' ? `destroyed ${request.closed} (its records are anonymized)` : 'none (never seen, or destroyed)'}`,
  ];
  if (request?.state === 'pending')
    lines.push(
      `  request: erasure pending, due ${request.due} (by ${request.principal}: ${request.reason})${request.claimed ? `, being carried out since ${request.claimed}` : ''}`,
    );
  else if (request)
    lines.push(
      `  request: last erasure request ${request.state} ${request.closed ?? ''} (${request.outcome ?? ''})`,
    );
  else if (target.requests) lines.push('  request: none');
  io.stdout(`${lines.join('\n')}\n`);
  return { subject, store: target.store.location, key, request };
}

/** Exports every record of the subject the persona may read, prints a summary (stderr), records the export. */
export async function exportCommand(flags: ExportFlags, io: CliIO = processIO): Promise<SubjectSummary> {
  const config = loadConfig(flags.config);
  requirePrivacyPersona(config, flags.persona);
  const target = await privacyTarget(flags, config);
  if (target.local) await runLocalDueErasures(dataDirOf(flags), config, localPrincipal());
  const subject = subjectRef(target.lakeKey, flags.user);
  // The query is an access event of its own (the query hook records it, with the persona).
  const query = await resolveQueryTarget(
    undefined,
    { ...flags, user: [flags.user], since: flags.since ?? exportSince(config) },
    io,
  );
  const sink = await openOutput(flags.output ?? STDOUT_PATH, io);
  const summary = emptySummary();
  try {
    // The person's records are those holding their pseudonym anywhere, not only in `user_id`; an id
    // without a key has none, and its placeholder must not match a text that happens to hold it.
    const known = !query.filter.userIds?.includes(NO_SUBJECT_PSEUDONYM);
    const filter = known ? { ...query.filter, userIdsAnywhere: true } : query.filter;
    const { built, pages, done } = await query.run({ kind: 'search', filter, order: 'asc' });
    try {
      const writer = new RecordWriter(flags.format ?? 'ndjson', (t) => sink.write(t));
      for await (const page of pages) {
        const records = page.map((r) => decodeSearchRow(built.columns, r));
        for (const r of records) addToSummary(summary, r);
        await writer.write(records);
      }
      await writer.end();
      await sink.commit();
    } finally {
      done();
    }
  } catch (error) {
    sink.abort();
    throw error;
  }
  io.stderr(`${renderSummary(summary, sink.name)}\n`);
  await target.record({
    time: new Date().toISOString(),
    action: 'export',
    principal: await target.principal(),
    persona: flags.persona,
    subject,
    store: target.store.location,
    outcome: `${summary.records} records exported`,
    records: summary.records,
  });
  return summary;
}

function renderSummary(s: SubjectSummary, where: string): string {
  const list = (m: Record<string, number>) =>
    Object.entries(m)
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${k} ${n}`)
      .join(', ') || 'none';
  return [
    `exported ${s.records} record${s.records === 1 ? '' : 's'} of the subject to ${where}`,
    `  by category: ${list(s.byCategory)}`,
    `  by service:  ${list(s.byService)}`,
    `  first seen:  ${s.firstSeen ?? '-'}`,
    `  last seen:   ${s.lastSeen ?? '-'}`,
    `  redacted:    ${list(s.redacted)}`,
  ].join('\n');
}

function afterOption(value: string): number {
  return parseDuration(value, '--after');
}

export function registerSubjectCommand(program: Command): void {
  const subject = program
    .command('subject')
    .description("a person's rights: export their logs, erase them (crypto-shredding), status, cancel");
  const persona = () =>
    new Option('--persona <persona>', 'who asks (must be in privacy.personas of the config)')
      .choices(PERSONAS)
      .makeOptionMandatory();
  const user = () => new Option('--user <id>', 'the raw user id').makeOptionMandatory();

  const erase = subject
    .command('erase')
    .description("destroy the subject's key: their pseudonyms become unlinkable everywhere (idempotent)")
    .addOption(user())
    .addOption(persona())
    .requiredOption('--reason <text>', 'why (recorded in the audit event)')
    .option(
      '--after <duration>',
      'cancellation window (e.g. 7d): destroy the key then, unless cancelled',
      afterOption,
    )
    .option(
      '--purge',
      "also rewrite the unlocked categories' files without the person's rows, old S3 versions deleted (with --stack: by the executor on its next run); locked categories are kept, GDPR Art. 17(3)(b)",
    );
  addPrivacyTargetOptions(erase).action(async (raw: unknown) => {
    await eraseCommand(parseFlags(eraseFlags, raw));
  });

  const cancel = subject
    .command('cancel')
    .description('withdraw a scheduled erasure (erase --after) before it is due')
    .addOption(user())
    .addOption(persona())
    .option('--reason <text>', 'why (recorded in the audit event)');
  addPrivacyTargetOptions(cancel).action(async (raw: unknown) => {
    await cancelCommand(parseFlags(cancelFlags, raw));
  });

  const status = subject
    .command('status')
    .description("whether the subject's key exists or was destroyed, and any pending erasure")
    .addOption(user())
    .addOption(persona());
  addPrivacyTargetOptions(status).action(async (raw: unknown) => {
    await statusCommand(parseFlags(statusFlags, raw));
  });

  const exp = addTargetOptions(
    subject
      .command('export')
      .description('every record of the subject the persona may read, and a summary')
      .addOption(user())
      .option('--since <time>', `start (default: everything kept, ${EXPORT_SINCE} or the longest expiry)`)
      .option('--until <time>', 'end (exclusive)')
      .option('--category <category>', 'only these categories', listOption)
      .option('--output <file>', `file to write (appears only when complete), or ${STDOUT_PATH}`, STDOUT_PATH)
      .addOption(new Option('--format <format>', 'output format').choices(EXPORT_FORMATS).default('ndjson')),
  );
  exp.action(async (raw: unknown) => {
    await exportCommand(parseFlags(exportFlags, raw));
  });
}

function addPrivacyTargetOptions(cmd: Command): Command {
  return cmd
    .option('--data-dir <dir>', 'the local lake (default .loglake/data or LOGLAKE_DATA_DIR)')
    .option(
      '--pseudonym-key-file <file>',
      "the local lake's pseudonym key (default <data-dir>/.loglake/pseudonym.key)",
    )
    .option('--athena', 'the deployed lake (with --stack)')
    .option('--stack <name>', 'the deployed stack: its key table, secret and audit stream from its outputs')
    .option('--region <region>', 'AWS region')
    .option('--pseudonym-secret <arn>', 'Secrets Manager secret of the lake key')
    .option('--audit-stream <name>', 'the audit delivery stream, when the stack has no access recorder')
    .option('--config <file>', 'config file (privacy.personas)');
}
