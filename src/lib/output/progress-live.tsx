/** The terminal progress line, drawn by ink on stderr. Loaded only when stderr is a terminal. */
import { Box, Text, render } from 'ink';
import type { OutStream } from './io.js';
import { type ProgressOptions, type ProgressState, formatProgress } from './progress.js';

function Bar({ done, total, width }: { done: number; total: number; width: number }) {
  const filled = total > 0 ? Math.min(width, Math.round((done / total) * width)) : width;
  return (
    <Text>
      <Text color="green">{'█'.repeat(filled)}</Text>
      <Text dimColor>{'░'.repeat(width - filled)}</Text>
    </Text>
  );
}

function Line({ options, state, elapsedMs }: { options: ProgressOptions; state: ProgressState; elapsedMs: number }) {
  const total = state.total ?? options.total;
  return (
    <Box gap={1}>
      {total !== undefined ? <Bar done={state.done} total={total} width={24} /> : null}
      <Text>{formatProgress(options, state, elapsedMs)}</Text>
    </Box>
  );
}

export function mountLiveProgress(stream: OutStream, options: ProgressOptions) {
  const instance = render(<Line options={options} state={{ done: 0 }} elapsedMs={0} />, {
    stdout: stream as NodeJS.WriteStream,
    patchConsole: false,
    exitOnCtrlC: false,
  });
  return {
    rerender(state: ProgressState, elapsedMs: number) {
      instance.rerender(<Line options={options} state={state} elapsedMs={elapsedMs} />);
    },
    unmount() {
      instance.unmount();
    },
  };
}
