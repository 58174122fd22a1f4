/**
 * The README's runnable snippets, so tests run what users read: each fenced block right after a
 * `<!-- test: <name> -->` marker, and shell commands as a user would type them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const README = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');

/** The fenced block after `<!-- test: name -->`. @throws when the README has no such snippet. */
export function readmeSnippet(name: string): string {
  const marker = `<!-- test: ${name} -->`;
  const at = README.indexOf(marker);
  if (at < 0) throw new Error(`README.md has no snippet marked ${marker}`);
  const fence = /```[a-z]*\n([\s\S]*?)```/.exec(README.slice(at + marker.length));
  if (!fence?.[1]) throw new Error(`README.md: no fenced block after ${marker}`);
  return fence[1];
}

/** Commands of a shell block: continuation lines joined, trailing `# comments` removed. */
export function shellCommands(block: string): string[] {
  return block
    .replace(/\\\n\s*/g, '')
    .split('\n')
    .map((line) => line.replace(/\s+#\s.*$/, '').trim())
    .filter((line) => line !== '');
}

/** Every command in the README (any shell block) that starts with `prefix`. */
export function readmeCommands(prefix: string): string[] {
  const blocks = [...README.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
  return blocks.flatMap(shellCommands).filter((c) => c.startsWith(prefix));
}
