/**
 * The import rules of ARCHITECTURE.md, checked on every source file with TypeScript's own import scanner
 * (Biome's noRestrictedImports gives the same rules in the editor; this test resolves relative paths to
 * files, so a rule cannot pass because a pattern stopped matching).
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ROOT } from './infra/helpers';

/** An import of `from` (a repository path): a package name, or a repository path when relative. */
interface Import {
  readonly from: string;
  readonly to: string;
}

const CDK_PACKAGES = /^(aws-cdk-lib|constructs|cdk-nag)(\/|$)/;

/** What a file may not import, as a message; undefined when the import is allowed. */
function violation({ from, to }: Import): string | undefined {
  const [top, fn] = from.split('/');
  const internal = !to.startsWith('pkg:');
  if ((top === 'src' || top === 'lambdas') && !internal && CDK_PACKAGES.test(to.slice(4))) {
    return 'src/ and lambdas/ are CDK-free';
  }
  if ((top === 'src' || top === 'lambdas') && internal && /^(lib|bin)\//.test(to)) {
    return 'src/ and lambdas/ never import lib/ or bin/';
  }
  if (top === 'src' && to.startsWith('lambdas/')) return 'src/ never imports a handler';
  if (top === 'lambdas' && to.startsWith('lambdas/') && to.split('/')[1] !== fn) {
    return 'a handler imports no other handler';
  }
  if (
    (top === 'lib' || top === 'bin') &&
    to.startsWith('lambdas/') &&
    !/^lambdas\/[^/]+\/constants\.ts$/.test(to)
  ) {
    return 'lib/ and bin/ import from lambdas/ only their constants';
  }
  return undefined;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => path.relative(ROOT, path.join(e.parentPath, e.name)));
}

/** Every import of the file, relative ones resolved to the repository path of the file they name. */
function importsOf(file: string): Import[] {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  return ts.preProcessFile(text, true, true).importedFiles.map(({ fileName }) => {
    if (!fileName.startsWith('.')) return { from: file, to: `pkg:${fileName}` };
    const resolved = ts.resolveModuleName(
      fileName,
      path.join(ROOT, file),
      { moduleResolution: ts.ModuleResolutionKind.Node10 },
      ts.sys,
    ).resolvedModule?.resolvedFileName;
    return {
      from: file,
      to: path.relative(ROOT, resolved ?? path.resolve(ROOT, path.dirname(file), fileName)),
    };
  });
}

const FILES = ['src', 'lambdas', 'lib', 'bin'].flatMap(sourceFiles);

describe('import rules (ARCHITECTURE.md)', () => {
  it('holds for every file of src, lambdas, lib and bin', () => {
    const all = FILES.flatMap(importsOf);

    const broken = all.flatMap((i) => {
      const why = violation(i);
      return why ? [`${i.from} → ${i.to}: ${why}`] : [];
    });

    expect(broken).toEqual([]);
    // The walk sees real imports, so the rules above are not vacuously true.
    expect(all).toContainEqual({ from: 'lib/ingest.ts', to: 'lambdas/transform/constants.ts' });
    expect(all).toContainEqual({ from: 'lambdas/alarm/env.ts', to: 'src/environment.ts' });
  });

  it('reports each kind of violation', () => {
    expect(
      [
        { from: 'src/query/athena.ts', to: 'pkg:aws-cdk-lib/aws-s3' },
        { from: 'lambdas/alarm/index.ts', to: 'pkg:constructs' },
        { from: 'src/config.ts', to: 'lib/config.ts' },
        { from: 'src/alerts/run.ts', to: 'lambdas/alarm/aws.ts' },
        { from: 'lambdas/alarm/index.ts', to: 'lambdas/transform/env.ts' },
        { from: 'lib/ingest.ts', to: 'lambdas/transform/index.ts' },
        { from: 'lib/ingest.ts', to: 'lambdas/transform/constants.ts' },
        { from: 'src/query/athena.ts', to: 'pkg:@aws-sdk/client-athena' },
      ].map(violation),
    ).toEqual([
      'src/ and lambdas/ are CDK-free',
      'src/ and lambdas/ are CDK-free',
      'src/ and lambdas/ never import lib/ or bin/',
      'src/ never imports a handler',
      'a handler imports no other handler',
      'lib/ and bin/ import from lambdas/ only their constants',
      undefined,
      undefined,
    ]);
  });
});

describe('the layout table (ARCHITECTURE.md)', () => {
  it('lists every top-level folder of lib, lambdas and src, and no other', () => {
    // Prepare
    const text = readFileSync(path.join(ROOT, 'ARCHITECTURE.md'), 'utf8');
    const section = text.slice(text.indexOf('## Layout'), text.indexOf('## Data flow'));

    // Act
    const listed = [...section.matchAll(/^\| `((?:lib|lambdas|src)\/[\w-]+)\/` /gm)].map((m) => m[1]).sort();
    const folders = ['lib', 'lambdas', 'src']
      .flatMap((top) =>
        readdirSync(path.join(ROOT, top), { withFileTypes: true })
          .filter((e) => e.isDirectory())
          .map((e) => `${top}/${e.name}`),
      )
      .sort();

    // Assess
    expect(listed).toEqual(folders);
  });
});
