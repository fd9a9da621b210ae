/**
 * The serde's pre-flight check of encoded rows: in this thread, or, once a send has proved
 * big, on worker threads (the pool is its own chunk in the build and is imported while the
 * first rows are read, so a small send never starts a worker).
 */
import type { Logger } from '../log.js';
import { compileSchema, type SerdeSchema } from '../serde/index.js';
import type { CheckFailure, ValidatorPool } from './validator-pool.js';

/** Rows checked in this thread before the check moves to worker threads (starting them costs). */
const WORKER_THRESHOLD_ROWS = 20_000;

export class RowChecker {
  private readonly converter;
  private pool: ValidatorPool | undefined;
  private Pool: typeof ValidatorPool | undefined;
  private checkedRows = 0;

  constructor(
    private readonly schema: SerdeSchema,
    private readonly log: Logger,
  ) {
    this.converter = compileSchema(schema);
    void import('./validator-pool.js').then((m) => (this.Pool = m.ValidatorPool)).catch((err: unknown) => log.debug(`validation workers unavailable: ${String(err)}`));
  }

  /** The payloads the serde would fail, by index in `payloads`. */
  check(payloads: Buffer[]): CheckFailure[] | Promise<CheckFailure[]> {
    this.checkedRows += payloads.length;
    if (this.pool === undefined && this.Pool !== undefined && this.checkedRows >= WORKER_THRESHOLD_ROWS) {
      this.pool = this.Pool.start(this.schema);
      this.Pool = undefined;
      if (this.pool) this.log.debug(`checking rows on ${this.pool.size} worker thread${this.pool.size === 1 ? '' : 's'}`);
    }
    if (this.pool) return this.pool.check(payloads);
    const failures: CheckFailure[] = [];
    payloads.forEach((payload, i) => {
      const result = this.converter.convert(payload);
      if (!result.ok) failures.push([i, result]);
    });
    return failures;
  }

  async close(): Promise<void> {
    await this.pool?.close();
  }
}
