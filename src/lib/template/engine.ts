/**
 * The template language of templates/*.yaml, kept small enough that the templates stay
 * plain CloudFormation YAML a reviewer can read:
 *
 * - `# @if flag` / `# @if !flag` ... `# @end` on lines of their own keep or drop the lines
 *   between them (YAML comments, so the raw template still parses);
 * - `'{{name}}'` as a whole value (`Key: '{{name}}'` or `- '{{name}}'`) becomes the value,
 *   written as YAML: a scalar on the line, a list or map as a block below the key;
 * - `{{name}}` inside a single-quoted string (or a comment) is replaced by the text of a
 *   string or number value, quotes doubled, and `${` escaped as `${!` on `!Sub` lines so
 *   CloudFormation leaves it alone.
 *
 * Anything unknown (a flag, a value, an unbalanced @if) is a defect of the template and throws.
 */
import { type YamlValue, yamlAfterKey, yamlScalar } from './yaml.js';

export interface TemplateInput {
  values: Record<string, YamlValue>;
  flags: Record<string, boolean>;
}

export class TemplateError extends Error {}

const IF = /^\s*#\s*@if\s+(!?)([A-Za-z][A-Za-z0-9]*)\s*$/;
const END = /^\s*#\s*@end\s*$/;
const WHOLE = /^(?<lead>\s*(?:- )?)(?<key>[^'"#\s][^'"#]*?:)?\s*'\{\{(?<name>[A-Za-z][A-Za-z0-9]*)\}\}'\s*$/;
const INLINE = /\{\{([A-Za-z][A-Za-z0-9]*)\}\}/g;

export function renderTemplate(source: string, input: TemplateInput, file = 'template'): string {
  const out: string[] = [];
  const open: { keep: boolean; line: number }[] = [];
  const lines = source.split('\n');
  lines.forEach((line, index) => {
    const where = `${file}:${index + 1}`;
    const condition = IF.exec(line);
    if (condition) {
      const flag = input.flags[condition[2]!];
      if (flag === undefined) throw new TemplateError(`${where}: unknown flag '${condition[2]}'`);
      open.push({ keep: condition[1] === '!' ? !flag : flag, line: index + 1 });
      return;
    }
    if (END.test(line)) {
      if (!open.pop()) throw new TemplateError(`${where}: @end without @if`);
      return;
    }
    if (open.some((o) => !o.keep)) return;
    out.push(fillLine(line, input.values, where));
  });
  const unclosed = open.pop();
  if (unclosed) throw new TemplateError(`${file}:${unclosed.line}: @if without @end`);
  return out.join('\n');
}

function lookup(values: Record<string, YamlValue>, name: string, where: string): YamlValue {
  const value = values[name];
  if (value === undefined) throw new TemplateError(`${where}: no value for '{{${name}}}'`);
  return value;
}

function fillLine(line: string, values: Record<string, YamlValue>, where: string): string {
  if (!line.includes('{{')) return line;
  const whole = WHOLE.exec(line);
  if (whole?.groups) {
    const { lead, key, name } = whole.groups as { lead: string; key?: string; name: string };
    const value = lookup(values, name, where);
    if (key !== undefined) return `${lead}${key}${yamlAfterKey(value, lead.length)}`;
    if (typeof value === 'object') throw new TemplateError(`${where}: a list item '{{${name}}}' must be a scalar`);
    return `${lead}${yamlScalar(value)}`;
  }
  const comment = line.trimStart().startsWith('#');
  const sub = line.includes('!Sub');
  return line.replace(INLINE, (_match, name: string, offset: number) => {
    const value = lookup(values, name, where);
    if (typeof value === 'object' || typeof value === 'boolean') throw new TemplateError(`${where}: '{{${name}}}' inside a string must be a string or number`);
    const text = String(value);
    if (comment) return text.replace(/[\r\n]/g, ' ');
    const quotesBefore = line.slice(0, offset).split("'").length - 1;
    if (quotesBefore % 2 === 0) throw new TemplateError(`${where}: '{{${name}}}' must be inside a single-quoted string`);
    return (sub ? text.replace(/\$\{/g, '${!') : text).replace(/'/g, "''");
  });
}
