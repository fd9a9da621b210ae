import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { profileRegion, regionFromSharedConfig, sharedConfigPath } from '../../src/lib/aws-shared-config.js';

const CONFIG = [
  '# written by aws configure',
  '[default]',
  'region = us-west-2',
  'output = json',
  '',
  '[profile dev]',
  's3 =',
  '  region = ignored-nested',
  '  max_concurrent_requests = 20',
  'region=eu-central-1 # Frankfurt',
  '',
  '[profile   spaced  ]',
  '; a comment',
  'region = ap-southeast-2',
  '',
  '[bare]',
  'region = sa-east-1',
  '',
  '[profile noregion]',
  'output = text',
  '[profile default]',
  'region = not-reached',
].join('\r\n');

describe('region from the AWS shared config file', () => {
  it.each<[string, string | undefined]>([
    ['default', 'us-west-2'],
    ['dev', 'eu-central-1'],
    ['spaced', 'ap-southeast-2'],
    // The AWS CLI reads only [profile NAME] sections (and [default]) in the config file.
    ['bare', undefined],
    ['noregion', undefined],
    ['missing', undefined],
  ])('profile %s gives %s', (profile, expected) => {
    expect(profileRegion(CONFIG, profile)).toBe(expected);
  });

  it('takes [profile default] when there is no [default]', () => {
    expect(profileRegion('[profile default]\nregion = eu-north-1\n', 'default')).toBe('eu-north-1');
  });

  it('reads AWS_CONFIG_FILE, else ~/.aws/config under HOME', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lake-awsconfig-'));
    writeFileSync(join(dir, 'config'), CONFIG);
    expect(sharedConfigPath({ AWS_CONFIG_FILE: join(dir, 'config') })).toBe(join(dir, 'config'));
    expect(sharedConfigPath({ HOME: dir })).toBe(join(dir, '.aws', 'config'));
    expect(sharedConfigPath({ HOME: dir, AWS_CONFIG_FILE: '~/cfg' })).toBe(join(dir, 'cfg'));
    expect(regionFromSharedConfig('dev', { AWS_CONFIG_FILE: join(dir, 'config') })).toEqual({ value: 'eu-central-1', source: 'aws-config:dev' });
    expect(regionFromSharedConfig('dev', { HOME: dir })).toBeUndefined();
  });
});
