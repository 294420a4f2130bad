/** Starts the real relay CLI as a child process and waits for its "relay listening" log line. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface RelayProcess {
  child: ChildProcess;
  port: number;
  url: string;
  socketUrl: string;
  stop(): Promise<void>;
}

export async function spawnRelay(args: string[]): Promise<RelayProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'relay/cli.ts', '--host', '127.0.0.1', '--port', '0', ...args],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const port = await new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on('line', (line) => {
      try {
        const entry = JSON.parse(line) as { msg?: string; port?: number };
        if (entry.msg === 'relay listening' && typeof entry.port === 'number') resolve(entry.port);
      } catch {
        // Not a log line (the relay only logs JSON); ignore it.
      }
    });
    child.once('exit', (code) =>
      reject(new Error(`relay exited with ${String(code)} before listening`)),
    );
  });
  return {
    child,
    port,
    url: `http://127.0.0.1:${port}`,
    socketUrl: `ws://127.0.0.1:${port}/socket/websocket`,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
