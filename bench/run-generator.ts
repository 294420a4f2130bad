/** Forks the load generator (bench/generator/main.ts) for one scenario and returns its result. */
import { fork } from 'node:child_process';
import { join } from 'node:path';
import type { FromGenerator, ScenarioConfig, ScenarioResult, ToGenerator } from './config.js';
import { ROOT, track } from './spawn.js';

export function runGenerator(
  config: ScenarioConfig,
  onProgress: (message: string) => void = () => undefined,
): Promise<ScenarioResult> {
  const child = fork(join(ROOT, 'bench/generator/main.ts'), [], {
    cwd: ROOT,
    execArgv: ['--import', 'tsx', '--max-old-space-size=4096'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  track(child);
  return new Promise((resolve, reject) => {
    let settled = false;
    child.on('message', (message: FromGenerator) => {
      if (message.type === 'progress') onProgress(message.message);
      else if (message.type === 'result') {
        settled = true;
        resolve(message.result);
      } else {
        settled = true;
        reject(new Error(`generator failed: ${message.message}`));
      }
    });
    child.once('exit', (code) => {
      if (!settled) reject(new Error(`generator exited with ${String(code)} without a result`));
    });
    const run: ToGenerator = { type: 'run', config };
    child.send(run);
  });
}
