/**
 * The parts of a send decided before any row is read: which inputs (those named, or those
 * of the checkpoint being resumed), which dead-letter file, and whether an earlier,
 * interrupted send of the same inputs stands in the way.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { type InputFile, resolveInputs } from '../records/input.js';
import { type CheckpointDoc, matchCheckpoint, readCheckpoint } from './checkpoint.js';
import { defaultDeadLetterName } from './dead-letter.js';
import type { SendSettings } from './pipeline.js';

export interface SendSession {
  inputs: InputFile[];
  deadLetterPath: string;
  deadLetterName: string;
  resume?: CheckpointDoc;
}

/** How to name a path in messages: relative when it is under the working directory. */
export function displayPath(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

export function openSession(args: string[], cwd: string, settings: Pick<SendSettings, 'checkpointPath'>, options: { resume: boolean; deadLetter?: string; start: Date }): SendSession {
  const checkpointPath = settings.checkpointPath;
  const shownCheckpoint = checkpointPath ? displayPath(checkpointPath, cwd) : '';
  if (options.resume) {
    const doc = checkpointPath ? readCheckpoint(checkpointPath) : undefined;
    if (!doc) throw new UsageError(`nothing to resume: no checkpoint at ${shownCheckpoint}`, { hint: 'a checkpoint is left by a send that was interrupted; run the send without --resume' });
    const inputs = args.length > 0 ? resolveInputs(args, cwd) : resolveInputs(doc.inputs.map((i) => i.path ?? i.name), cwd).map((input, k) => ({ ...input, name: doc.inputs[k]!.name }));
    matchCheckpoint(doc, inputs, shownCheckpoint);
    if (options.deadLetter !== undefined && resolve(cwd, options.deadLetter) !== doc.deadLetter) {
      throw new UsageError(`--dead-letter: the interrupted send writes to ${displayPath(doc.deadLetter, cwd)}; a resumed send continues that file`);
    }
    return { inputs, deadLetterPath: doc.deadLetter, deadLetterName: displayPath(doc.deadLetter, cwd), resume: doc };
  }
  const inputs = resolveInputs(args, cwd);
  if (checkpointPath && existsSync(checkpointPath)) {
    throw new UsageError(`an interrupted send left a checkpoint at ${shownCheckpoint}`, {
      hint: `continue it with \`lake send --resume\`, or delete ${shownCheckpoint} to send everything again`,
    });
  }
  const name = options.deadLetter ?? defaultDeadLetterName(options.start);
  return { inputs, deadLetterPath: resolve(cwd, name), deadLetterName: name };
}
