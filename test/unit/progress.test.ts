import { describe, expect, it } from 'vitest';
import { makeColors } from '../../src/lib/output/color.js';
import { createProgress, formatDuration, formatProgress } from '../../src/lib/output/progress.js';

class Sink {
  text = '';
  write(chunk: string) {
    this.text += chunk;
    return true;
  }
}

describe('formatProgress', () => {
  it('shows done/total, percent, rate, extra counters and ETA', () => {
    expect(formatProgress({ label: 'send', total: 10_000, unit: 'records' }, { done: 2_500, extra: { retries: 3, rejected: 1 } }, 1_000)).toBe(
      'send: 2,500/10,000 records (25%), 2,500 records/s, retries 3, rejected 1, ETA 3s',
    );
  });

  it('without a total, shows the count and rate only', () => {
    expect(formatProgress({ label: 'list', unit: 'objects' }, { done: 42 }, 2_000)).toBe('list: 42 objects, 21 objects/s');
  });
});

describe('formatDuration', () => {
  it.each([
    [450, '450ms'],
    [12_400, '12s'],
    [125_000, '2m05s'],
    [3_725_000, '1h02m'],
  ])('%d ms reads %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('createProgress', () => {
  it('in lines mode, appends a line at most once an interval, then the summary', async () => {
    const sink = new Sink();
    let t = 0;
    const progress = createProgress(sink, { label: 'send', total: 100 }, { mode: 'lines', colors: makeColors(false), lineIntervalMs: 1000, now: () => t });
    t = 500;
    progress.update(10);
    t = 1000;
    progress.update(20);
    t = 1500;
    progress.update(30);
    t = 2000;
    progress.update(40);
    await progress.finish('sent 100 records');
    expect(sink.text).toBe('send: 20/100 (20%), 20/s, ETA 4s\nsend: 40/100 (40%), 20/s, ETA 3s\nsent 100 records\n');
  });

  it('in none mode, writes nothing at all', async () => {
    const sink = new Sink();
    const progress = createProgress(sink, { label: 'x' }, { mode: 'none', colors: makeColors(false) });
    progress.update(5);
    await progress.finish('done');
    expect(sink.text).toBe('');
  });
});
