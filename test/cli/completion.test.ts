// `lake completion bash|zsh`: the scripts are generated in-process, then loaded into a real
// shell (spawned) with the completion variables set, as the shell would set them on <Tab>.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/program.js';
import { runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'lake-completion-'));
let bashFile: string;
let zshFile: string;
let zshText: string;

beforeAll(async () => {
  const bash = await runCli(['completion', 'bash'], { cwd: dir });
  const zsh = await runCli(['completion', 'zsh'], { cwd: dir });
  expect([bash.code, bash.stderr, zsh.code, zsh.stderr]).toEqual([0, '', 0, '']);
  bashFile = join(dir, 'lake.bash');
  zshFile = join(dir, '_lake');
  zshText = zsh.stdout;
  writeFileSync(bashFile, bash.stdout);
  writeFileSync(zshFile, zsh.stdout);
  writeFileSync(join(dir, 'events.csv'), 'id\n1\n');
  writeFileSync(join(dir, 'events.ndjson'), '{"id":1}\n');
});

/** What bash offers for the words typed, the cursor on the last one. */
function bashComplete(...words: string[]): string[] {
  const script = `source ${JSON.stringify(bashFile)}; COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); _lake; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const run = spawnSync('bash', ['-c', script, 'bash', ...words], { cwd: dir, encoding: 'utf8' });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  return run.stdout.split('\n').filter((l) => l !== '');
}

describe('lake completion bash', () => {
  it('completes a command, then a subcommand', () => {
    expect(bashComplete('lake', 'par')).toEqual(['partitions']);
    expect(bashComplete('lake', 'partitions', 's')).toEqual(['sync']);
  });

  it('offers every command and help after lake', () => {
    expect(bashComplete('lake', '')).toEqual([...COMMANDS.map((c) => c.name), 'help']);
  });

  it('offers a command\'s own options, then the program\'s', () => {
    expect(bashComplete('lake', 'partitions', 'sync', '--d')).toEqual(['--dry-run', '--debug']);
    expect(bashComplete('lake', 'query', '--max-')).toEqual(['--max-rows', '--max-bytes', '--max-cost']);
  });

  it('skips global options and their values on the way to the command', () => {
    expect(bashComplete('lake', '-c', 'other.json', '--region', 'eu-west-1', 'partitions', 'l')).toEqual(['list']);
  });

  it('offers the choices of an option, and files for a file option or argument', () => {
    expect(bashComplete('lake', 'config', '-o', '')).toEqual(['table', 'json', 'csv', 'ndjson']);
    expect(bashComplete('lake', 'send', '--format', 'nd')).toEqual(['ndjson']);
    expect(bashComplete('lake', 'query', '--file', 'events.n')).toEqual(['events.ndjson']);
    expect(bashComplete('lake', 'send', 'events.c')).toEqual(['events.csv']);
  });

  it('offers nothing for a free-form value', () => {
    expect(bashComplete('lake', 'query', '--timeout', '')).toEqual([]);
  });

  it('after help, offers the commands (and their subcommands)', () => {
    expect(bashComplete('lake', 'help', 'qu')).toEqual(['query']);
    expect(bashComplete('lake', 'help', 'partitions', '')).toEqual(['sync', 'list']);
  });

  it('leaves hidden options out', () => {
    expect(bashComplete('lake', 'send', '--retry')).toEqual([]);
  });

  it('registers _lake for the lake command', () => {
    const run = spawnSync('bash', ['-c', `source ${JSON.stringify(bashFile)}; complete -p lake`], { encoding: 'utf8' });
    expect(run.stdout).toBe('complete -F _lake lake\n');
  });
});

describe('lake completion zsh', () => {
  it('names every command and subcommand with its description, and every option', () => {
    expect(zshText.split('\n')[0]).toBe('#compdef lake');
    for (const command of COMMANDS) expect(zshText).toContain(`'${command.name}:${command.description.replace(/'/g, "'\\''")}'`);
    expect(zshText).toContain("'partitions') printf '%s\\n' 'sync:register the partitions found in storage");
    expect(zshText).toContain("'partitions sync') printf '%s\\n' '--dry-run' '--prune' '--since' '--concurrency' '-h' '--help'");
    expect(zshText).toContain("'|--output') printf '%s\\n' 'table' 'json' 'csv' 'ndjson' ;;");
    expect(zshText).toContain('compdef _lake lake');
  });

  it('is valid zsh, and completes through _describe, compadd and _files (where zsh is installed)', () => {
    const zsh = spawnSync('zsh', ['--version'], { encoding: 'utf8' });
    // zsh is not part of lake's requirements: without it, the content checks above stand alone.
    if (zsh.error) return;
    const syntax = spawnSync('zsh', ['-n', zshFile], { encoding: 'utf8' });
    expect([syntax.status, syntax.stderr]).toEqual([0, '']);
    // The completion system's functions replaced by stand-ins that print what they were given.
    const complete = (...words: string[]) => {
      const script = [
        '_describe() { local -a items; items=("${(@P)4}"); print -rl -- "${(@)${(@)items%%:*}//\\\\:/:}"; }',
        'compadd() { shift; print -rl -- "$@"; }',
        '_files() { print -r -- "<files>"; }',
        'compdef() { :; }',
        `source ${JSON.stringify(zshFile)}`,
        'words=("$@"); CURRENT=$#',
        '_lake',
      ].join('\n');
      const run = spawnSync('zsh', ['-c', script, 'zsh', ...words], { encoding: 'utf8' });
      expect(run.stderr).toBe('');
      return run.stdout.split('\n').filter((l) => l !== '');
    };
    expect(complete('lake', 'par')).toEqual([...COMMANDS.map((c) => c.name), 'help']);
    expect(complete('lake', 'partitions', 's')).toEqual(['sync', 'list']);
    expect(complete('lake', 'config', '-o', '')).toEqual(['table', 'json', 'csv', 'ndjson']);
    expect(complete('lake', 'send', '')).toEqual(['<files>']);
  });
});
