/**
 * The time window of `lake errors` (`--since 24h`, `--until`), and the tests that decide,
 * from a key alone, whether an error object can hold a record of the window.
 *
 * Records are filtered on their own `arrivalTimestamp`. Objects are pruned before they are
 * read, from the day folder of their key (Firehose evaluates `!{timestamp:...}` with the
 * arrival of the oldest record in the object) and from the time in their name, with a
 * slack wide enough for the longest a record can wait before Firehose writes it to the
 * error prefix: the 900 s buffering interval plus the 7,200 s retry duration of HTTP
 * endpoint, Splunk and OpenSearch destinations.
 */
import { UsageError } from '../errors.js';
import { parseSince } from '../partitions.js';

export interface TimeWindow {
  since: Date;
  until: Date;
}

export const WINDOW_SLACK_MS = 3 * 3_600_000;
export const DEFAULT_SINCE = '24h';

const TIME_HINT = 'use a duration back from now (30m, 24h, 7d), a date (2024-05-17), a date and hour (2024-05-17T13) or an ISO time';

/** `--since`/`--until` as dates; `until` defaults to now. */
export function parseWindow(since: string | undefined, until: string | undefined, now: Date): TimeWindow {
  const read = (flag: string, text: string) => {
    const date = parseSince(text, now);
    if (!date) throw new UsageError(`${flag}: cannot read '${text}' as a time`, { hint: TIME_HINT });
    return date;
  };
  const window = { since: read('--since', since ?? DEFAULT_SINCE), until: until === undefined ? now : read('--until', until) };
  if (window.since.getTime() >= window.until.getTime()) {
    throw new UsageError(`--since (${window.since.toISOString()}) must be before --until (${window.until.toISOString()})`);
  }
  return window;
}

export function inWindow(time: number, window: TimeWindow): boolean {
  return time >= window.since.getTime() && time <= window.until.getTime();
}

/** Whether an object whose key says `time` (its name, or its last modification) can hold a record of the window. */
export function mayHoldWindow(time: Date, window: TimeWindow): boolean {
  const t = time.getTime();
  return t >= window.since.getTime() - WINDOW_SLACK_MS && t <= window.until.getTime() + WINDOW_SLACK_MS;
}

/** `yyyy/MM/dd` in UTC, as `!{timestamp:yyyy/MM/dd}` evaluates. */
export function dayPath(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getUTCFullYear()}/${pad(date.getUTCMonth() + 1)}/${pad(date.getUTCDate())}`;
}

/** The day folders (`yyyy/MM/dd`) that can hold objects of the window, first and last. */
export function windowDays(window: TimeWindow): { first: string; last: string } {
  return {
    first: dayPath(new Date(window.since.getTime() - WINDOW_SLACK_MS)),
    last: dayPath(new Date(window.until.getTime() + WINDOW_SLACK_MS)),
  };
}
