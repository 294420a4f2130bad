/**
 * How the standalone relay writes its logs: pino's JSON lines for log collectors, or, in a
 * terminal, one human-readable line per entry (pino-pretty, the pino project's own formatter).
 * Only the CLI uses this; an embedder passes its own logger (relay/node/logger.ts).
 */
import { pino, type Logger } from 'pino';
import { prettyFactory } from 'pino-pretty';
import { createLogger } from '../node/logger.js';

/** pino's levels, quietest last (`silent` logs nothing). */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

export const LOG_FORMATS = ['json', 'pretty', 'auto'] as const;
/** `auto`: pretty when stdout is a terminal, JSON otherwise. */
export type LogFormat = (typeof LOG_FORMATS)[number];

export function isLogFormat(text: string): text is LogFormat {
  return (LOG_FORMATS as readonly string[]).includes(text);
}

/** `auto` settled against the process's stdout. */
export function resolveLogFormat(format: LogFormat, stdoutIsTty: boolean): 'json' | 'pretty' {
  if (format === 'auto') return stdoutIsTty ? 'pretty' : 'json';
  return format;
}

export interface CliLoggerOptions {
  level: string;
  format: 'json' | 'pretty';
  /** Colours in pretty lines (for a terminal). */
  colorize: boolean;
  /** Where pretty lines go (stdout by default). */
  output?: { write(text: string): unknown };
}

export function createCliLogger({
  level,
  format,
  colorize,
  output = process.stdout,
}: CliLoggerOptions): Logger {
  if (format === 'json') return createLogger(level);
  // prettyFactory formats one entry synchronously, in this thread: unlike a pino transport (a
  // worker) or pino-pretty's stream, no line is still in flight when the process exits.
  const prettify = prettyFactory({
    colorize,
    // One line per entry: `12:03:04 INFO: relay listening {"port":4000,...}`.
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss',
    ignore: 'pid,hostname,name',
  });
  return pino(
    { name: 'parley-relay', level },
    { write: (line: string) => void output.write(prettify(line)) },
  );
}
