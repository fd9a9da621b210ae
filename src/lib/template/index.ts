/**
 * The CloudFormation template of a lake: templates/lake.yaml (shipped with lake) filled
 * from the configuration, and the rendered copy written beside lake.config.json for the
 * user to review and commit. `lake init` and `lake deploy` render; the deployer applies.
 */
import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LakeConfig } from '../config.js';
import { LakeError } from '../errors.js';
import { renderTemplate } from './engine.js';
import { type RenderOptions, templateValues } from './values.js';

export { type RenderOptions, MIN_CONVERSION_BUFFER_MIB, sourceStreamName } from './values.js';

/** The rendered template's file name, beside lake.config.json. */
export const RENDERED_TEMPLATE = 'lake.template.yaml';
const SOURCE_TEMPLATE = 'lake.yaml';

export interface RenderedStack {
  /** CloudFormation YAML. */
  body: string;
  /** Where the rendering departs from the configuration, and why. */
  notes: string[];
}

/**
 * templates/ sits at the package root: two levels above src/lib/template when run from the
 * sources, one above dist/ when run from the build.
 */
export function templatesDir(from: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'templates', SOURCE_TEMPLATE))) return join(dir, 'templates');
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new LakeError(`templates/${SOURCE_TEMPLATE} is missing from lake's installation (looked upward from ${from})`, { hint: 'reinstall lake' });
}

let sourceCache: string | undefined;

export async function renderStack(config: LakeConfig, options: RenderOptions = {}): Promise<RenderedStack> {
  sourceCache ??= await readFile(join(templatesDir(), SOURCE_TEMPLATE), 'utf8');
  const { values, flags, notes } = templateValues(config, options);
  return { body: renderTemplate(sourceCache, { values, flags }, `templates/${SOURCE_TEMPLATE}`), notes };
}

/** The rendered template's path for a configuration file. */
export function renderedTemplatePath(configPath: string): string {
  return join(dirname(configPath), RENDERED_TEMPLATE);
}

/** Writes the rendered template unless it already holds exactly this; says which. */
export async function writeRenderedTemplate(path: string, body: string): Promise<'created' | 'updated' | 'unchanged'> {
  let before: string | undefined;
  try {
    before = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (before === body) return 'unchanged';
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, body);
  await rename(tmp, path);
  return before === undefined ? 'created' : 'updated';
}
