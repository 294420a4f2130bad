/**
 * Reconnect delays with full random jitter and a cap ("Exponential Backoff And Jitter", AWS
 * Architecture Blog): delay = random(0, min(cap, base · 2^(attempt-1))). Without jitter every
 * client of a restarted relay reconnects in the same instant.
 */
export interface BackoffOptions {
  baseMs: number;
  capMs: number;
  random?: () => number;
}

/** A LAN relay that restarts should see its clients back within seconds, not half a minute. */
export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 300, capMs: 10_000 };

/** Returns `(attempt) => delayMs`, attempt counting from 1 (the phoenix client's convention). */
export function fullJitterBackoff(
  options: BackoffOptions = DEFAULT_BACKOFF,
): (attempt: number) => number {
  const random = options.random ?? Math.random;
  return (attempt) => {
    const exponent = Math.min(Math.max(attempt, 1) - 1, 30);
    const ceiling = Math.min(options.capMs, options.baseMs * 2 ** exponent);
    return Math.floor(random() * ceiling);
  };
}
