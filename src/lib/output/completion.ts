/**
 * Shell completion scripts, generated from the commander program tree so they always name
 * exactly the commands and options lake has. Both shells share the same data functions
 * (plain `case` statements keyed by the command path, e.g. "partitions sync"); each has a
 * small walker that finds the path typed so far and offers subcommands, options, option
 * values (choices, or file names) or file arguments.
 */
import type { Command, Option } from 'commander';

export type Shell = 'bash' | 'zsh';
export const SHELLS: Shell[] = ['bash', 'zsh'];

export interface CompletionOption {
  names: string[];
  description: string;
  takesValue: boolean;
  /** Fixed values (`-o table|json|...`), or 'files' for an option naming a file. */
  values?: string[] | 'files';
  hidden: boolean;
}

export interface CompletionNode {
  /** Words from the program to this command, e.g. ['partitions', 'sync']; [] for lake itself. */
  path: string[];
  description: string;
  options: CompletionOption[];
  commands: CompletionNode[];
  /** The command's arguments are files (`send [files...]`). */
  fileArguments: boolean;
}

const FILE_PLACEHOLDER = /<(file|path|dir)[^>]*>|\[(file|path|dir)[^\]]*\]/i;

function optionOf(option: Option): CompletionOption {
  const takesValue = option.required || option.optional;
  const names = [option.short, option.long].filter((n): n is string => n !== undefined);
  const values = option.argChoices ? [...option.argChoices] : takesValue && FILE_PLACEHOLDER.test(option.flags) ? 'files' : undefined;
  return { names, description: option.description, takesValue, ...(values ? { values } : {}), hidden: option.hidden };
}

/** The program tree as plain data (commander's help option added to each command). */
export function completionTree(command: Command, path: string[] = []): CompletionNode {
  const help: CompletionOption = { names: ['-h', '--help'], description: 'show help', takesValue: false, hidden: false };
  return {
    path,
    description: command.description(),
    options: [...command.options.map(optionOf), help],
    commands: command.commands.map((sub) => completionTree(sub, [...path, sub.name()])),
    fileArguments: command.registeredArguments.some((a) => /file|path/i.test(a.name())),
  };
}

function nodes(root: CompletionNode): CompletionNode[] {
  return [root, ...root.commands.flatMap(nodes)];
}

/** A single-quoted shell word. */
const q = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;
/** zsh _describe entries: `name:description`, colons in the name escaped. */
const described = (name: string, description: string) => `${name.replace(/:/g, '\\:')}:${description.replace(/\s+/g, ' ')}`;

function caseFunction(name: string, comment: string, arms: [string, string[]][], args = '"$1"'): string {
  const lines = arms.filter(([, words]) => words.length > 0).map(([key, words]) => `    ${q(key)}) printf '%s\\n' ${words.map(q).join(' ')} ;;`);
  return `# ${comment}\n${name}() {\n  case ${args} in\n${lines.join('\n')}\n  esac\n}\n`;
}

/**
 * The data functions both scripts use: the whole tree, nothing computed at completion time.
 * The program's own options are accepted after any subcommand (commander reads them there),
 * so every path offers them.
 */
function dataFunctions(root: CompletionNode): string {
  const all = nodes(root);
  const key = (node: CompletionNode) => node.path.join(' ');
  const shown = (node: CompletionNode) => node.options.filter((o) => !o.hidden);
  const globals = shown(root).filter((o) => !o.names.includes('--help'));
  return [
    caseFunction('_lake_subcommands', 'The subcommands of a command path.', all.map((n) => [key(n), n.commands.map((c) => c.path.at(-1)!)])),
    caseFunction('_lake_subcommand_lines', 'zsh: the subcommands with their descriptions.', all.map((n) => [key(n), n.commands.map((c) => described(c.path.at(-1)!, c.description))])),
    caseFunction('_lake_own_options', 'The options of a command path (hidden ones left out).', all.map((n) => [key(n), shown(n).flatMap((o) => o.names)])),
    caseFunction('_lake_own_option_lines', 'zsh: the same, with their descriptions.', all.map((n) => [key(n), shown(n).flatMap((o) => o.names.map((name) => described(name, o.description)))])),
    `# The options accepted at a command path: its own, then the program's (but its -h/--help).
_lake_options() {
  _lake_own_options "$1"
  [[ -z $1 ]] || printf '%s\\n' ${globals.flatMap((o) => o.names).map(q).join(' ')}
}
_lake_option_lines() {
  _lake_own_option_lines "$1"
  [[ -z $1 ]] || printf '%s\\n' ${globals.flatMap((o) => o.names.map((name) => described(name, o.description))).map(q).join(' ')}
}
`,
    caseFunction(
      '_lake_own_option_values',
      "What follows an option that takes a value at a command path: its choices, __files__, or __any__.",
      all.flatMap((n) => n.options.filter((o) => o.takesValue).flatMap((o) => o.names.map((name): [string, string[]] => [`${key(n)}|${name}`, o.values === 'files' ? ['__files__'] : (o.values ?? ['__any__'])]))),
      '"$1|$2"',
    ),
    `# The values of an option at a command path: its own option, else the program's.
_lake_option_values() {
  local values
  values=$(_lake_own_option_values "$1" "$2")
  [[ -z $values && -n $1 ]] && values=$(_lake_own_option_values '' "$2")
  printf '%s' "$values"
}
`,
    caseFunction('_lake_arguments', 'Commands whose arguments are files.', all.filter((n) => n.fileArguments).map((n) => [key(n), ['__files__']])),
  ].join('\n');
}

/**
 * The walk over the words typed before the cursor, the same in both shells: options that
 * take a value skip it, a known subcommand extends the path, `help` only changes what the
 * next word completes to. Sets cmdpath, helping and stop (after `--`).
 */
const WALK = `  local cmdpath='' word helping=0 stop=0 i
  for (( i = FIRST; i < LAST; i++ )); do
    word=WORD_AT_I
    case $word in
      --) stop=1; break ;;
      --*=*) ;;
      -*) if [[ -n "$(_lake_option_values "$cmdpath" "$word")" ]]; then (( i++ )); fi ;;
      *) if [[ -z $cmdpath && $helping == 0 && $word == help ]]; then helping=1
         elif [[ $'\\n'"$(_lake_subcommands "$cmdpath")"$'\\n' == *$'\\n'"$word"$'\\n'* ]]; then cmdpath=\${cmdpath:+$cmdpath }$word
         fi ;;
    esac
  done`;

function bashScript(root: CompletionNode): string {
  return `# bash completion for lake. Load it with:  source <(lake completion bash)
# or save it:  lake completion bash > ~/.local/share/bash-completion/completions/lake
${dataFunctions(root)}
_lake() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=''
  (( COMP_CWORD > 1 )) && prev=\${COMP_WORDS[COMP_CWORD-1]}
${WALK.replace('FIRST', '1').replace('LAST', 'COMP_CWORD').replace('WORD_AT_I', '${COMP_WORDS[i]}')}
  local values
  [[ $prev == -* && $stop == 0 ]] && values=$(_lake_option_values "$cmdpath" "$prev")
  if [[ -n $values ]]; then
    if [[ $values == __files__ ]]; then compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur"))
    elif [[ $values == __any__ ]]; then COMPREPLY=()
    else COMPREPLY=($(compgen -W "$values" -- "$cur"))
    fi
    return 0
  fi
  if [[ $cur == -* && $stop == 0 && $helping == 0 ]]; then
    COMPREPLY=($(compgen -W "$(_lake_options "$cmdpath")" -- "$cur"))
  elif [[ -n "$(_lake_subcommands "$cmdpath")" ]]; then
    COMPREPLY=($(compgen -W "$(_lake_subcommands "$cmdpath")$([[ -z $cmdpath && $helping == 0 ]] && printf ' help')" -- "$cur"))
  elif [[ -n "$(_lake_arguments "$cmdpath")" ]]; then
    compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur"))
  else
    COMPREPLY=()
  fi
  return 0
}
complete -F _lake lake
`;
}

function zshScript(root: CompletionNode): string {
  return `#compdef lake
# zsh completion for lake. Load it with:  source <(lake completion zsh)
# or save it as _lake in a folder of $fpath:  lake completion zsh > "\${fpath[1]}/_lake"
${dataFunctions(root)}
_lake() {
  local cur=\${words[CURRENT]} prev=\${words[CURRENT-1]}
${WALK.replace('FIRST', '2').replace('LAST', 'CURRENT').replace('WORD_AT_I', '${words[i]}')}
  local values
  [[ $CURRENT -gt 2 && $prev == -* && $stop == 0 ]] && values=$(_lake_option_values "$cmdpath" "$prev")
  if [[ -n $values ]]; then
    if [[ $values == __files__ ]]; then _files
    elif [[ $values != __any__ ]]; then compadd -- \${(f)values}
    fi
    return
  fi
  local -a lines
  if [[ $cur == -* && $stop == 0 && $helping == 0 ]]; then
    lines=(\${(f)"$(_lake_option_lines "$cmdpath")"})
    _describe -t options 'option' lines
  elif [[ -n "$(_lake_subcommands "$cmdpath")" ]]; then
    lines=(\${(f)"$(_lake_subcommand_lines "$cmdpath")"})
    [[ -z $cmdpath && $helping == 0 ]] && lines+=('help:show help for a command')
    _describe -t commands 'command' lines
  elif [[ -n "$(_lake_arguments "$cmdpath")" ]]; then
    _files
  fi
}
if [[ \${zsh_eval_context[-1]} == loadautofunc ]]; then
  _lake "$@"
else
  compdef _lake lake
fi
`;
}

export function completionScript(shell: Shell, root: CompletionNode): string {
  return shell === 'bash' ? bashScript(root) : zshScript(root);
}
