/**
 * Waits for `settled`, at most `maxWaitMs`, and not past an abort of `signal`, whichever
 * comes first. Whatever it hangs on the signal and the timer is taken off when it returns,
 * so a long-lived signal does not collect a listener per call (a poller calls it often).
 */
import { setTimeout as sleep } from 'node:timers/promises';

export async function settledWithin(settled: Promise<void>, maxWaitMs: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return;
  const waits = new AbortController();
  const timedOut = sleep(maxWaitMs, undefined, { signal: waits.signal }).catch(() => undefined);
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<void>((resolve) => {
    onAbort = () => resolve();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  try {
    await Promise.race([settled, timedOut, aborted]);
  } finally {
    if (onAbort) signal?.removeEventListener('abort', onAbort);
    waits.abort();
  }
}
