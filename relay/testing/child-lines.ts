/** JSON-lines protocol between a test and the child processes it starts. */
import type { ChildProcess } from 'node:child_process';

export interface Lines<T> {
  readonly all: T[];
  /** Resolves with the first line at index `from` or later (seen so far or to come) that matches. */
  waitFor(match: (line: T) => boolean, timeoutMs: number, what: string, from?: number): Promise<T>;
}

/** Collects a child's stdout JSON lines; stderr is kept for error messages. */
export function jsonLines<T>(child: ChildProcess): Lines<T> & { stderr(): string } {
  const all: T[] = [];
  const waiters = new Set<() => void>();
  let buffer = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk;
    let newline = buffer.indexOf('\n');
    while (newline !== -1) {
      const line = buffer.slice(0, newline).trim();
      buffer = buffer.slice(newline + 1);
      if (line.startsWith('{')) {
        try {
          all.push(JSON.parse(line) as T);
        } catch {
          stderr += `unparsable line: ${line}\n`;
        }
      }
      newline = buffer.indexOf('\n');
    }
    for (const wake of [...waiters]) wake();
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  return {
    all,
    stderr: () => stderr,
    waitFor: (match, timeoutMs, what, from = 0) =>
      new Promise((resolve, reject) => {
        const check = (): boolean => {
          const found = all.slice(from).find(match);
          if (found === undefined) return false;
          cleanup();
          resolve(found);
          return true;
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(
            new Error(`timed out after ${timeoutMs} ms waiting for ${what}; stderr:\n${stderr}`),
          );
        }, timeoutMs);
        const onExit = (): void => {
          if (check()) return;
          cleanup();
          reject(new Error(`child exited while waiting for ${what}; stderr:\n${stderr}`));
        };
        const wake = (): void => {
          check();
        };
        const cleanup = (): void => {
          clearTimeout(timer);
          waiters.delete(wake);
          child.off('exit', onExit);
        };
        if (check()) return;
        waiters.add(wake);
        child.once('exit', onExit);
      }),
  };
}

/** Ends a child: SIGTERM, then SIGKILL if it lingers. */
export async function endChild(child: ChildProcess, graceMs = 3_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
