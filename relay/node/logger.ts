/** Structured logs (pino). Message content is never logged at the default level. */
import { pino, type Logger } from 'pino';

export function createLogger(level: string = process.env.PARLEY_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name: 'parley-relay', level });
}
