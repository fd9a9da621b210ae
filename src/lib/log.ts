/** Where library code reports what it is doing. Routed to stderr by the output host. */
export interface Logger {
  /** Shown only with --debug. */
  debug(message: string): void;
  /** Progress-like information; hidden with --quiet. */
  info(message: string): void;
  /** Always shown on stderr (unless JSON error output replaces it). */
  warn(message: string): void;
}

export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
};
