/**
 * Writing plain data (strings, numbers, booleans, lists, maps) as YAML, for the values the
 * template engine puts into templates/*.yaml. Strings are left plain only when every YAML
 * reader (CloudFormation's is YAML 1.1) reads them back as the same string; anything else
 * is written as a JSON string, which is also a valid YAML double-quoted scalar.
 */

export type YamlValue = string | number | boolean | YamlValue[] | { [key: string]: YamlValue };

/** Words YAML 1.1 reads as booleans or null. */
const RESERVED = /^(y|n|yes|no|true|false|on|off|null|~)$/i;
const PLAIN = /^[A-Za-z][A-Za-z0-9_./-]*$/;

export function yamlScalar(value: string | number | boolean): string {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`cannot write ${value} in a template`);
    return String(value);
  }
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return PLAIN.test(value) && !RESERVED.test(value) ? value : JSON.stringify(value);
}

const isScalar = (value: YamlValue): value is string | number | boolean => typeof value !== 'object';

/**
 * A value as the text that follows `key:` on a line indented by `indent` spaces: scalars
 * and empty collections stay on the line (` value`), others start on the next line.
 */
export function yamlAfterKey(value: YamlValue, indent: number): string {
  if (isScalar(value)) return ` ${yamlScalar(value)}`;
  if (Array.isArray(value) ? value.length === 0 : Object.keys(value).length === 0) return Array.isArray(value) ? ' []' : ' {}';
  return `\n${yamlBlock(value, indent + 2)}`;
}

/** A non-empty list or map as block YAML lines at `indent`, without a trailing newline. */
export function yamlBlock(value: YamlValue[] | { [key: string]: YamlValue }, indent: number): string {
  const pad = ' '.repeat(indent);
  const lines: string[] = [];
  if (Array.isArray(value)) {
    for (const item of value) {
      if (isScalar(item) || (Array.isArray(item) ? item.length === 0 : Object.keys(item).length === 0)) {
        lines.push(`${pad}-${yamlAfterKey(item, indent)}`);
      } else {
        // The item's first line shares the dash: "- Name: x", the rest align under "Name".
        const inner = yamlBlock(item, indent + 2);
        lines.push(`${pad}- ${inner.slice(indent + 2)}`);
      }
    }
  } else {
    for (const [key, item] of Object.entries(value)) lines.push(`${pad}${yamlScalar(key)}:${yamlAfterKey(item, indent)}`);
  }
  return lines.join('\n');
}
