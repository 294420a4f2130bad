/**
 * The load-generator process, forked by the orchestrator with an IPC channel: it receives one
 * scenario, runs it (senders and receivers here, on one clock) and sends back the result.
 */
import type { FromGenerator, ScenarioConfig, ScenarioResult, ToGenerator } from '../config.js';
import { runDurable } from './durable.js';
import { runEdits } from './edits.js';
import { runFanout } from './fanout.js';
import { runIdle } from './idle.js';
import { runSearch } from './search.js';
import { runStorm } from './storm.js';

function reply(message: FromGenerator): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined) throw new Error('the generator must be forked with IPC');
    process.send(message, () => resolve());
  });
}

function run(config: ScenarioConfig): Promise<ScenarioResult> {
  const progress = (message: string): void => void reply({ type: 'progress', message });
  switch (config.kind) {
    case 'fanout':
      return runFanout(config, progress);
    case 'idle':
      return runIdle(config, progress);
    case 'durable':
      return runDurable(config);
    case 'storm':
      return runStorm(config);
    case 'search':
      return runSearch(config);
    case 'edits':
      return runEdits(config, progress);
  }
}

process.once('message', (message: ToGenerator) => {
  run(message.config)
    .then((result) => reply({ type: 'result', result }))
    .catch((error: unknown) =>
      reply({
        type: 'error',
        message: error instanceof Error ? (error.stack ?? error.message) : String(error),
      }),
    )
    .finally(() => process.exit(0));
});
