/**
 * Progress on stderr. On a terminal: a live line drawn with ink (loaded on first use).
 * Elsewhere (CI, pipes): an append-only line at most every few seconds, then a final one.
 * Nothing with --no-progress or --quiet.
 */
import type { Colors } from './color.js';
import type { OutStream } from './io.js';

export interface ProgressOptions {
  label: string;
  /** Total units when known (records, bytes...), for a bar and an ETA. */
  total?: number;
  unit?: string;
}

export interface ProgressState {
  done: number;
  total?: number;
  /** Extra counters shown after the main figure, e.g. { retries: 2, rejected: 1 }. */
  extra?: Record<string, number | string>;
}

export interface Progress {
  update(done: number, extra?: Record<string, number | string>): void;
  /** Ends the progress display; `summary` is printed as the final line where lines are shown. */
  finish(summary?: string): Promise<void>;
}

export type ProgressMode = 'none' | 'lines' | 'live';

export interface ProgressEnv {
  mode: ProgressMode;
  colors: Colors;
  /** Milliseconds between plain lines. */
  lineIntervalMs?: number;
  now?: () => number;
}

export function formatProgress(options: ProgressOptions, state: ProgressState, elapsedMs: number): string {
  const unit = options.unit ? ` ${options.unit}` : '';
  const total = state.total ?? options.total;
  const rate = elapsedMs > 0 ? Math.round((state.done / elapsedMs) * 1000) : 0;
  let text = `${options.label}: ${state.done.toLocaleString('en-US')}`;
  if (total !== undefined) {
    const pct = total > 0 ? Math.min(100, Math.floor((state.done / total) * 100)) : 100;
    text += `/${total.toLocaleString('en-US')}${unit} (${pct}%)`;
  } else text += unit;
  text += `, ${rate.toLocaleString('en-US')}${unit}/s`;
  for (const [k, v] of Object.entries(state.extra ?? {})) text += `, ${k} ${typeof v === 'number' ? v.toLocaleString('en-US') : v}`;
  if (total !== undefined && rate > 0 && state.done < total) text += `, ETA ${formatDuration(((total - state.done) / rate) * 1000)}`;
  return text;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export function createProgress(stream: OutStream, options: ProgressOptions, env: ProgressEnv): Progress {
  if (env.mode === 'none') return { update: () => {}, finish: async () => {} };
  const now = env.now ?? Date.now;
  const started = now();
  if (env.mode === 'lines') {
    const interval = env.lineIntervalMs ?? 5000;
    let lastLine = started;
    let state: ProgressState = { done: 0 };
    return {
      update(done, extra) {
        state = { done, extra };
        const t = now();
        if (t - lastLine >= interval) {
          lastLine = t;
          stream.write(`${formatProgress(options, state, t - started)}\n`);
        }
      },
      async finish(summary) {
        if (summary) stream.write(`${summary}\n`);
      },
    };
  }
  return createLiveProgress(stream, options, now, started);
}

function createLiveProgress(stream: OutStream, options: ProgressOptions, now: () => number, started: number): Progress {
  let state: ProgressState = { done: 0 };
  let live: { rerender(state: ProgressState, elapsedMs: number): void; unmount(): void } | undefined;
  const loading = import('./progress-live.js').then(({ mountLiveProgress }) => {
    live = mountLiveProgress(stream, options);
    live.rerender(state, now() - started);
  });
  return {
    update(done, extra) {
      state = { done, extra };
      live?.rerender(state, now() - started);
    },
    async finish(summary) {
      await loading;
      live?.rerender(state, now() - started);
      live?.unmount();
      if (summary) stream.write(`${summary}\n`);
    },
  };
}
