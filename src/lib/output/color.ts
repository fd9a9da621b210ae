/** A few ANSI styles, applied only when colour is on (a terminal, no NO_COLOR, no --no-color). */
export interface Colors {
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  yellow(text: string): string;
  green(text: string): string;
  cyan(text: string): string;
}

const wrap = (open: number, close: number) => (text: string) => `\u001b[${open}m${text}\u001b[${close}m`;

export function makeColors(enabled: boolean): Colors {
  if (!enabled) {
    const plain = (text: string) => text;
    return { bold: plain, dim: plain, red: plain, yellow: plain, green: plain, cyan: plain };
  }
  return { bold: wrap(1, 22), dim: wrap(2, 22), red: wrap(31, 39), yellow: wrap(33, 39), green: wrap(32, 39), cyan: wrap(36, 39) };
}
