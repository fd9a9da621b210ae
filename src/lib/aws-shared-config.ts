/**
 * The region a profile of the AWS shared config file sets, read as the AWS CLI reads it:
 * the file is AWS_CONFIG_FILE, else ~/.aws/config; the profile `default` is the section
 * `[default]`, any other NAME the section `[profile NAME]`; `region = ...` at the top level
 * of the section (indented lines belong to a nested setting such as `s3 =`). Comments are
 * lines starting with `#` or `;`.
 *
 * A light module (node:fs only): configuration loading must not pull in the AWS SDK.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface SharedConfigRegion {
  value: string;
  /** `aws-config:PROFILE`, as `lake config` shows where the region came from. */
  source: `aws-config:${string}`;
}

/** The shared config file lake reads: AWS_CONFIG_FILE, else ~/.aws/config (HOME first, as the CLI). */
export function sharedConfigPath(env: Record<string, string | undefined>): string {
  const named = env['AWS_CONFIG_FILE']?.trim();
  if (named) return named.startsWith('~/') ? join(env['HOME'] || homedir(), named.slice(2)) : named;
  return join(env['HOME'] || homedir(), '.aws', 'config');
}

/** The region of `profile` in the shared config file, or undefined (no file, no profile, no region). */
export function regionFromSharedConfig(profile: string, env: Record<string, string | undefined>): SharedConfigRegion | undefined {
  let text: string;
  try {
    text = readFileSync(sharedConfigPath(env), 'utf8');
  } catch {
    return undefined;
  }
  const value = profileRegion(text, profile);
  return value === undefined ? undefined : { value, source: `aws-config:${profile}` };
}

/** `region` in the section of `profile` of an AWS config file's text. */
export function profileRegion(text: string, profile: string): string | undefined {
  const wanted = profile === 'default' ? ['default', 'profile default'] : [`profile ${profile}`];
  let inProfile = false;
  for (const line of text.split(/\r?\n/)) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';')) continue;
    const section = /^\[([^\]]*)\]/.exec(trimmed);
    if (section) {
      inProfile = wanted.includes(section[1]!.trim().replace(/\s+/g, ' '));
      continue;
    }
    if (!inProfile || /^\s/.test(line)) continue;
    const setting = /^region\s*=\s*([^\s#;]+)/.exec(trimmed);
    if (setting) return setting[1];
  }
  return undefined;
}
