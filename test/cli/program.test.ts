import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import type { CommandApp } from '../../src/commands/command.js';
import { expandHelp } from '../../src/main.js';
import { COMMANDS, commandsNamedIn, createProgram } from '../../src/program.js';

const app: CommandApp = { action: () => async () => {} };

describe('createProgram', () => {
  it('lists the same help whether the commands are loaded or only named in COMMANDS', async () => {
    const loaded = await createProgram(app, '1.0.0', () => true);
    const named = await createProgram(app, '1.0.0', () => false);
    expect(named.helpInformation()).toBe(loaded.helpInformation());
    expect(loaded.commands.map((c) => c.name())).toEqual(COMMANDS.map((c) => c.name));
  });

  it('loads only the commands it is asked for', async () => {
    const program = await createProgram(app, '1.0.0', (name) => name === 'query');
    const query = program.commands.find((c) => c.name() === 'query')!;
    const send = program.commands.find((c) => c.name() === 'send')!;
    expect(query.options.map((o) => o.long)).toContain('--estimate');
    expect(send.options).toEqual([]);
  });
});

describe('commandsNamedIn', () => {
  it('given --version or --help, loads no command', () => {
    for (const argv of [['--version'], ['--help'], [], ['-o', 'json']]) {
      expect(COMMANDS.filter((c) => commandsNamedIn(argv)(c.name)), argv.join(' ')).toEqual([]);
    }
  });

  it('loads the commands named anywhere on the line, and all of them for completion', () => {
    const names = (argv: string[]) => COMMANDS.map((c) => c.name).filter(commandsNamedIn(argv));
    expect(names(['-c', 'x.json', 'partitions', 'sync', '--dry-run'])).toEqual(['partitions']);
    expect(names(['help', 'query'])).toEqual(['query']);
    expect(names(['query', 'SELECT 1 AS send'])).toEqual(['query']);
    expect(names(['completion', 'bash'])).toEqual(COMMANDS.map((c) => c.name));
  });
});

describe('expandHelp', () => {
  const names = COMMANDS.map((c) => c.name);
  it('turns help with a command path into that command\'s --help', () => {
    expect(expandHelp(['help', 'partitions', 'sync'], names)).toEqual(['partitions', 'sync', '--help']);
    expect(expandHelp(['-o', 'json', 'help', 'partitions', 'list'], names)).toEqual(['-o', 'json', 'partitions', 'list', '--help']);
  });

  it('leaves everything else to commander', () => {
    expect(expandHelp(['help', 'query'], names)).toEqual(['help', 'query']);
    expect(expandHelp(['help', 'nope', 'sync'], names)).toEqual(['help', 'nope', 'sync']);
    expect(expandHelp(['query', 'help', 'x'], names)).toEqual(['query', 'help', 'x']);
    expect(expandHelp(['-c', 'help', 'partitions', 'sync'], names)).toEqual(['-c', 'help', 'partitions', 'sync']);
  });
});

/** The lake command of an example line: from `lake` to the first unquoted | > ) or ;, split as a shell would. */
function exampleArgv(line: string): string[] {
  const text = /(?:^|[\s(])lake (.*)$/.exec(line)![1]!;
  const words: string[] = [];
  let word: string | undefined;
  let quote: string | undefined;
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = undefined;
      else word += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      word ??= '';
    } else if (/\s/.test(ch)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if ('|>);'.includes(ch)) break;
    else word = (word ?? '') + ch;
  }
  if (word !== undefined) words.push(word);
  return words;
}

describe('the examples in every help text', () => {
  it('parse: each names real commands, options and choices', async () => {
    const program = await createProgram(app, '1.0.0');
    const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)];
    for (const c of all(program)) c.exitOverride().configureOutput({ writeOut: () => {}, writeErr: () => {} });
    const checked: string[] = [];
    for (const command of all(program)) {
      let help = '';
      command.configureOutput({ writeOut: (t) => (help += t), writeErr: () => {} });
      command.outputHelp();
      for (const line of help.split('\n').filter((l) => l.startsWith('  $ '))) {
        const argv = exampleArgv(line.slice(4));
        checked.push(argv.join(' '));
        const fresh = await createProgram(app, '1.0.0');
        for (const c of all(fresh)) c.exitOverride().configureOutput({ writeOut: () => {}, writeErr: () => {} });
        // Help (`lake help config`) ends parsing with exit code 0; anything else is a usage error.
        const outcome = await fresh.parseAsync(argv, { from: 'user' }).then(
          () => 'parsed',
          (err: { exitCode?: number; message?: string }) => (err.exitCode === 0 ? 'parsed' : `${line}: ${err.message}`),
        );
        expect(outcome).toBe('parsed');
      }
    }
    expect(checked).toContain('partitions sync --since 48h');
    expect(checked).toContain('completion bash');
    expect(checked).toContain('config -o json');
    expect(checked.length).toBeGreaterThanOrEqual(30);
  });
});
