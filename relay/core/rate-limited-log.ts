/**
 * A repeated failure in the log without one line per occurrence: the first occurrence at once,
 * then at most one line per interval with how many occurrences it stands for, and one line when
 * the condition ends. A storage outage or an overloaded write queue refuses every send; logging
 * each refusal would turn a flood of sends into a flood of log lines.
 */
import type { Logger } from 'pino';

export interface RateLimitedLogOptions {
  logger: Logger;
  /** At most one line per this many milliseconds while the condition lasts. */
  intervalMs: number;
  level: 'warn' | 'error';
  /** The log message of the lines while failing, e.g. "message writes failing". */
  message: string;
  /** The log message of the one line when it ends, e.g. "message writes work again". */
  recoveredMessage: string;
  /** The field carrying how many occurrences a line stands for (default `count`). */
  countField?: string;
}

export class RateLimitedLog {
  readonly #options: Required<RateLimitedLogOptions>;
  #lastLoggedAt = Number.NEGATIVE_INFINITY;
  #unlogged = 0;
  #failing = false;
  /** An occurrence line was written since the last recovery line. */
  #reported = false;

  constructor(options: RateLimitedLogOptions) {
    this.#options = { countField: 'count', ...options };
  }

  /** True between an occurrence and the next `recovered()`. */
  get failing(): boolean {
    return this.#failing;
  }

  /** `count` more occurrences; `fields` describe the latest (logged with the line, if one is due). */
  occurred(fields: Record<string, unknown>, count = 1): void {
    this.#failing = true;
    this.#unlogged += count;
    const now = Date.now();
    if (now - this.#lastLoggedAt < this.#options.intervalMs) return;
    const { logger, level, message, countField } = this.#options;
    logger[level]({ ...fields, [countField]: this.#unlogged }, message);
    this.#lastLoggedAt = now;
    this.#unlogged = 0;
    this.#reported = true;
  }

  /**
   * The condition ended: one line (with the occurrences no line counted yet). A condition that
   * flaps (a queue full, drained, full again) logs no more than one occurrence line and one
   * recovery line per interval: a recovery with no occurrence line since the last recovery line
   * is silent, and its count goes into the next line.
   */
  recovered(): void {
    if (!this.#failing) return;
    this.#failing = false;
    if (!this.#reported) return;
    const { logger, recoveredMessage, countField } = this.#options;
    logger.warn({ [countField]: this.#unlogged }, recoveredMessage);
    this.#unlogged = 0;
    this.#reported = false;
  }
}
