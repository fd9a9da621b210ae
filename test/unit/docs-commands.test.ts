// The README and the CI example are read by users who copy their commands: every `lake ...`
// line in them must name a real command and only options that command (or the program) has.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const root = join(import.meta.dirname, '..', '..');
const cwd = mkdtempSync(join(tmpdir(), 'lake-docs-'));

/** The `lake ...` invocations of a text: from `lake` to the end of the shell command. */
function lakeInvocations(text: string): string[][] {
  const found: string[][] = [];
  for (const line of text.split('\n')) {
    // Shell lines only: code lines in fences or after `run:`; skip prose.
    const m = /(?:^|[|;&(]\s*|^\s*(?:run:\s*)?|\$\s*|\bLAKE_\w+=\S+\s+)lake\s+([a-z-].*)$/.exec(line.trim());
    if (!m) continue;
    const command = m[1]!.split(/\s+#\s/)[0]!.split(/\s(?:\||>|&&|;)\s?/)[0]!;
    const words = command.match(/"[^"]*"|'[^']*'|\S+/g) ?? [];
    found.push(words);
  }
  return found;
}

async function helpOf(path: string[]): Promise<string> {
  const run = await runCli([...path, '--help'], { cwd });
  expect(run.code, `lake ${path.join(' ')} --help`).toBe(0);
  return run.stdout;
}

async function checkInvocations(source: string, text: string): Promise<number> {
  const globalHelp = await helpOf([]);
  const commands = [...globalHelp.matchAll(/^ {2}([a-z]+)\b/gm)].map((m) => m[1]!);
  let checked = 0;
  for (const words of lakeInvocations(text)) {
    // Global options may come first (`lake --config F config`).
    let i = 0;
    while (i < words.length && words[i]!.startsWith('-')) i += /^--?[a-z-]+$/.test(words[i]!) && words[i + 1] && !words[i + 1]!.startsWith('-') && !commands.includes(words[i + 1]!) ? 2 : 1;
    const name = words[i];
    if (name === undefined || name === 'help') continue;
    expect(commands, `${source}: lake ${words.join(' ')}`).toContain(name);
    const path = [name];
    if (name === 'partitions' && words[i + 1] && !words[i + 1]!.startsWith('-')) path.push(words[i + 1]!);
    const help = (await helpOf(path)) + globalHelp;
    for (const word of words.slice(i + path.length)) {
      const option = /^(--?[a-zA-Z][\w-]*)/.exec(word)?.[1];
      if (!option || option === '-') continue;
      expect(help, `${source}: option ${option} of lake ${path.join(' ')}`).toMatch(new RegExp(`(^|[\\s,])${option}(?=[\\s,<\\[=]|$)`, 'm'));
    }
    checked++;
  }
  return checked;
}

describe('commands in the documentation', () => {
  it('parses invocations out of shell lines', () => {
    expect(lakeInvocations('run: lake errors --since 1h --fail-on-errors -o json | tee e.json')).toEqual([['errors', '--since', '1h', '--fail-on-errors', '-o', 'json']]);
    expect(lakeInvocations('cat e.json | lake send - --validate-only            # report')).toEqual([['send', '-', '--validate-only']]);
    expect(lakeInvocations('LAKE_BACKEND=local lake send "a b/*.ndjson" --pack > out')).toEqual([['send', '"a b/*.ndjson"', '--pack']]);
    expect(lakeInvocations('`lake` operates the lake')).toEqual([]);
  });

  it('every lake command in README.md exists with the options it shows', async () => {
    const checked = await checkInvocations('README.md', readFileSync(join(root, 'README.md'), 'utf8'));
    expect(checked).toBeGreaterThanOrEqual(25);
  });

  it('every lake command in the GitHub Actions example exists with the options it shows', async () => {
    const checked = await checkInvocations('examples/github-actions/lake.yml', readFileSync(join(root, 'examples/github-actions/lake.yml'), 'utf8'));
    expect(checked).toBe(7);
  });

  it('the option check catches a misspelled option', async () => {
    await expect(checkInvocations('inline', 'lake query --max-costs 1 "SELECT 1"')).rejects.toThrow(/option --max-costs of lake query/);
  });
});
