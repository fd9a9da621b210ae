/** `lake completion bash|zsh`: a completion script generated from the program's own tree. */
import { Argument, type Command } from 'commander';
import type { LakeContext } from '../lib/context.js';
import { SHELLS, type Shell, completionScript, completionTree } from '../lib/output/completion.js';
import { type Registrar, examples } from './command.js';

/** The script for `shell`, from the tree `command` belongs to (the whole program). */
export function runCompletion(ctx: LakeContext, shell: Shell, command: Command): undefined {
  let root = command;
  while (root.parent) root = root.parent;
  // A script, not a result document: the same text whatever -o says, so `source <(...)` works.
  ctx.out.write(completionScript(shell, completionTree(root)));
  return undefined;
}

export const registerCompletion: Registrar = (parent, app) => {
  parent
    .command('completion')
    .description('print a bash or zsh completion script for every command and option')
    .addArgument(new Argument('<shell>', 'the shell: bash or zsh').choices(SHELLS))
    .addHelpText(
      'after',
      examples(
        ['source <(lake completion bash)', 'complete lake commands and options in this bash session'],
        ['lake completion bash > ~/.local/share/bash-completion/completions/lake', 'for every new bash session'],
        ['lake completion zsh > "${fpath[1]}/_lake"', 'for zsh: save it as _lake in a folder of $fpath, then restart zsh'],
      ),
    )
    .action(app.action<Record<string, never>>(async (ctx, _opts, args, command) => runCompletion(ctx, args[0] as Shell, command)));
};
