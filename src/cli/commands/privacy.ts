/**
 * `loglake privacy erase|access <subject-id>`: a person's right to erasure (destroy their subject key:
 * every stored pseudonym of theirs becomes unlinkable, locked objects untouched) and right of access
 * (every record carrying their pseudonym, across the categories the persona may read, plus a summary).
 * Only the personas `privacy.personas` of the config names may run them; each is recorded as an event
 * in the `audit` category with the subject's lake-keyed reference, never the raw id.
 */
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { type Command, Option } from 'commander';
import { z } from 'zod';
import { LocalAccessSink } from '../../audit/local-sink';
import type { LogLakeConfig } from '../../config';
import { InputError, LogLakeError } from '../../errors';
import { pseudonymKey } from '../../local/datadir';
import { type PrivacyRequest, privacyLogEvent } from '../../privacy/audit';
import { LocalSubjectKeyStore } from '../../privacy/local-store';
import type { SubjectKeyStore } from '../../privacy/store';
import { subjectRef } from '../../privacy/subject';
import { addToSummary, emptySummary, type SubjectSummary } from '../../privacy/summary';
import { putRecordsReliably } from '../../producer/put-batch';
import { decodeSearchRow } from '../../query/decode';
import { PERSONAS, type Persona } from '../../schema';
import { callerIdentity, localPrincipal } from '../access';
import { athenaLakeKey, athenaSubjectKeys, resolveAthenaTarget } from '../aws';
import { addTargetOptions, formatSchema, parseFlags, queryFlags } from '../flags';
import { RecordWriter } from '../format';
import { type CliIO, processIO } from '../io';
import { dataDirOf, loadConfig } from '../options';
import { openOutput, STDOUT_PATH } from '../output';
import { resolveQueryTarget } from '../target';
import { requireLocalLake } from '../target/local';

/** Longer than the longest default retention (audit, 7 years): an access request covers everything kept. */
export const ACCESS_SINCE = '2600d';

const ACCESS_FORMATS = ['ndjson', 'json', 'csv'] as const;

const commonFlags = {
  persona: z.enum(PERSONAS, { error: `--persona is required: one of ${PERSONAS.join(', ')}` }),
  dataDir: z.string().optional(),
  pseudonymKeyFile: z.string().optional(),
  athena: z.boolean().optional(),
  stack: z.string().optional(),
  region: z.string().optional(),
  pseudonymSecret: z.string().optional(),
  auditStream: z.string().optional(),
  config: z.string().optional(),
};

export const eraseFlags = z.strictObject({ ...commonFlags, reason: z.string().min(1).optional() });
export type EraseFlags = z.output<typeof eraseFlags>;

export const accessFlags = queryFlags.extend({
  persona: z.enum(PERSONAS, { error: `--persona is required: one of ${PERSONAS.join(', ')}` }),
  output: z.string().min(1).optional(),
  format: formatSchema(ACCESS_FORMATS),
});
export type AccessFlags = z.output<typeof accessFlags>;

/** What an erase did. */
export interface EraseResult {
  readonly subject: string;
  readonly store: string;
  /** False when there was no key (already erased, or never seen): nothing changed. */
  readonly destroyed: boolean;
}

/** @throws InputError unless the config lets `persona` run privacy requests. */
export function requirePrivacyPersona(config: LogLakeConfig, persona: Persona): void {
  if (!config.privacy.personas.includes(persona)) {
    throw new InputError(
      `--persona ${persona} may not run privacy requests; privacy.personas in the config allows ${
        config.privacy.personas.join(', ') || 'none'
      }`,
    );
  }
}

/** The lake key, the key store, where the audit event goes, and who is asking. */
interface PrivacyTarget {
  readonly lakeKey: string | Uint8Array;
  readonly store: SubjectKeyStore;
  readonly principal: () => Promise<string>;
  readonly record: (event: Record<string, unknown>) => Promise<void>;
}

async function privacyTarget(flags: z.output<z.ZodObject<typeof commonFlags>>, config: LogLakeConfig) {
  if (flags.athena || flags.stack !== undefined) {
    const target = await resolveAthenaTarget({ ...flags, workgroup: 'unused', database: 'unused' });
    const auditStream = target.auditStream;
    return {
      lakeKey: await athenaLakeKey(target),
      store: athenaSubjectKeys(target),
      principal: () => callerIdentity(target.region),
      record: async (event) => {
        if (!auditStream)
          throw new InputError('the privacy request needs the audit stream: pass --stack <name>');
        const client = new FirehoseClient(target.region ? { region: target.region } : {});
        try {
          const put = await putRecordsReliably(client, auditStream, [
            Buffer.from(`${JSON.stringify(event)}\n`),
          ]);
          if (!put.delivered[0])
            throw new LogLakeError(`audit stream ${auditStream} did not accept the event`);
        } finally {
          client.destroy();
        }
      },
    } satisfies PrivacyTarget;
  }
  const dataDir = dataDirOf(flags);
  requireLocalLake(dataDir);
  return {
    lakeKey: pseudonymKey(dataDir, flags.pseudonymKeyFile, false),
    store: LocalSubjectKeyStore.forDataDir(dataDir),
    principal: async () => localPrincipal(),
    record: (event) => new LocalAccessSink(dataDir, config).recordLogEvent(event),
  } satisfies PrivacyTarget;
}

/**
 * Destroys the subject's key (idempotent), then records the request in the audit category. A failure
 * to record exits non-zero after saying what was done; running it again records it (nothing to destroy).
 */
export async function eraseCommand(
  subjectId: string,
  flags: EraseFlags,
  io: CliIO = processIO,
): Promise<EraseResult> {
  if (subjectId.trim() === '') throw new InputError('privacy erase: the subject id is empty');
  const config = loadConfig(flags.config);
  requirePrivacyPersona(config, flags.persona);
  const target = await privacyTarget(flags, config);
  const subject = subjectRef(target.lakeKey, subjectId);
  const destroyed = await target.store.destroy(subject);
  const outcome = destroyed
    ? `subject ${subject.slice(0, 16)} key destroyed`
    : `subject ${subject.slice(0, 16)} had no key (already erased, or never seen): nothing to destroy`;
  io.stdout(
    `${outcome} in ${target.store.location}\n` +
      (destroyed
        ? 'every stored pseudonym of this subject, in every category, locked objects and copies included, can no longer be linked to the id; new records of the id get a new key\n'
        : ''),
  );
  const request: PrivacyRequest = {
    time: new Date().toISOString(),
    action: 'erase',
    principal: await target.principal(),
    persona: flags.persona,
    subject,
    store: target.store.location,
    outcome: destroyed ? 'key destroyed' : 'no key',
    ...(flags.reason !== undefined ? { reason: flags.reason } : {}),
  };
  await target.record(privacyLogEvent(request));
  io.stdout('recorded the request in the audit category\n');
  return { subject, store: target.store.location, destroyed };
}

/** Exports every record of the subject the persona may read, and prints a summary (stderr). */
export async function accessCommand(
  subjectId: string,
  flags: AccessFlags,
  io: CliIO = processIO,
): Promise<SubjectSummary> {
  if (subjectId.trim() === '') throw new InputError('privacy access: the subject id is empty');
  const config = loadConfig(flags.config);
  if (flags.persona === undefined)
    throw new InputError(`--persona is required: one of ${PERSONAS.join(', ')}`);
  requirePrivacyPersona(config, flags.persona);
  // The query is an access event of its own (the query hook records it, with the persona).
  const target = await resolveQueryTarget(undefined, { ...flags, user: [subjectId] }, io);
  const sink = await openOutput(flags.output ?? STDOUT_PATH, io);
  const summary = emptySummary();
  try {
    const { built, pages, done } = await target.run({ kind: 'search', filter: target.filter, order: 'asc' });
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

export function registerPrivacyCommand(program: Command): void {
  const privacy = program
    .command('privacy')
    .description("a person's rights: erase them from the lake (crypto-shredding), or export their logs");
  const persona = () =>
    new Option('--persona <persona>', 'who asks (must be in privacy.personas of the config)').choices(
      PERSONAS,
    );

  const erase = privacy
    .command('erase')
    .description("destroy the subject's key: their pseudonyms become unlinkable everywhere (idempotent)")
    .argument('<subject-id>', 'the raw user id')
    .addOption(persona().makeOptionMandatory())
    .option('--reason <text>', 'why (recorded in the audit event)');
  addPrivacyTargetOptions(erase).action(async (id: string, flags: unknown) => {
    await eraseCommand(id, parseFlags(eraseFlags, flags));
  });

  const access = addTargetOptions(
    privacy
      .command('access')
      .description('every record of the subject the persona may read, and a summary')
      .argument('<subject-id>', 'the raw user id')
      .option('--since <time>', 'start (default: everything kept)', ACCESS_SINCE)
      .option('--until <time>', 'end (exclusive)')
      .option('--category <category>', 'only these categories', (v: string, p: string[] = []) => [
        ...p,
        ...v.split(','),
      ])
      .option('--output <file>', `file to write (appears only when complete), or ${STDOUT_PATH}`, STDOUT_PATH)
      .addOption(new Option('--format <format>', 'output format').choices(ACCESS_FORMATS).default('ndjson')),
  );
  access.action(async (id: string, flags: unknown) => {
    await accessCommand(id, parseFlags(accessFlags, flags));
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
    .option('--audit-stream <name>', 'the audit delivery stream')
    .option('--config <file>', 'config file (privacy.personas)');
}
