/**
 * File patterns for inputs the shell did not expand (quoted, or on Windows): `*` and `?`
 * within a path segment, `**` across segments, `[abc]` classes. Matches are sorted so a
 * send's order (and a checkpoint's) is the same every time.
 */
import { readdirSync } from 'node:fs';
import { isAbsolute, join, sep } from 'node:path';

export function hasGlob(pattern: string): boolean {
  return /[*?[]/.test(pattern);
}

function segmentRegex(segment: string): RegExp {
  let re = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const close = segment.indexOf(']', i + 1);
      if (close < 0) re += '\\[';
      else {
        const body = segment.slice(i + 1, close).replace(/^!/, '^').replace(/\\/g, '\\\\');
        re += `[${body}]`;
        i = close;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Files matching `pattern`, relative to `cwd` unless absolute; sorted. */
export function expandGlob(pattern: string, cwd: string): string[] {
  const absolute = isAbsolute(pattern);
  const parts = pattern.split(/[\\/]+/).filter((p, i) => p !== '' || i === 0);
  if (absolute) parts.shift();
  const results = new Set<string>();
  const walk = (dir: string, rest: string[], shown: string): void => {
    if (rest.length === 0) return;
    const [head, ...tail] = rest as [string, ...string[]];
    if (head === '**') {
      walk(dir, tail, shown);
      for (const entry of safeReaddir(dir)) {
        if (entry.isDirectory() && !entry.name.startsWith('.')) walk(join(dir, entry.name), rest, join(shown, entry.name));
      }
      return;
    }
    if (!hasGlob(head)) {
      const next = join(dir, head);
      if (tail.length === 0) {
        if (safeReaddir(dir).some((e) => e.name === head && !e.isDirectory())) results.add(join(shown, head));
      } else walk(next, tail, join(shown, head));
      return;
    }
    const re = segmentRegex(head);
    for (const entry of safeReaddir(dir)) {
      if (!re.test(entry.name) || (entry.name.startsWith('.') && !head.startsWith('.'))) continue;
      if (tail.length === 0) {
        if (!entry.isDirectory()) results.add(join(shown, entry.name));
      } else if (entry.isDirectory()) walk(join(dir, entry.name), tail, join(shown, entry.name));
    }
  };
  walk(absolute ? sep : cwd, parts, absolute ? sep : '');
  return [...results].sort();
}

function safeReaddir(dir: string) {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}
