/** The standalone relay process: `parley-relay` / `npm run relay`. SIGTERM closes cleanly. */
import type { Logger } from 'pino';
import { parseCli, usageMessage, USAGE } from './cli-args.js';
import { lanIPv4Addresses } from '../discovery/lan-addresses.js';
import { createCliLogger, resolveLogFormat } from './log-format.js';
import { advertiseRelay } from '../discovery/mdns-advert.js';
import { resolveOptions } from '../core/options.js';
import { startBanner } from './start-banner.js';
import { RELAY_VERSION } from '../core/version.js';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  let parsed;
  let logger: Logger;
  let pretty: boolean;
  try {
    parsed = parseCli(argv, process.env);
    if (parsed.help) {
      process.stdout.write(parsed.version === true ? `parley-relay ${RELAY_VERSION}\n` : USAGE);
      return;
    }
    // Values the parser accepts can still be out of range (--port 70000, a short secret, an
    // unknown log level): those are usage errors too (exit 2), not start-up failures (exit 1).
    resolveOptions(parsed.options);
    const stdoutIsTty = process.stdout.isTTY === true;
    pretty = resolveLogFormat(parsed.logFormat, stdoutIsTty) === 'pretty';
    logger = createCliLogger({
      level: parsed.logLevel,
      format: pretty ? 'pretty' : 'json',
      colorize: stdoutIsTty,
    });
  } catch (error) {
    // One precise line, not the whole usage: the mistake stays on screen.
    process.stderr.write(`parley-relay: ${usageMessage(error, argv)}; see parley-relay --help\n`);
    process.exit(2);
  }
  // A standalone relay also exports Node's process metrics (heap, event loop) at /metrics.
  if (parsed.plainOptIn) {
    logger.warn(
      'serving plain http:// and ws:// (--plain): anyone on the network can read and alter the ' +
        'traffic, passcode and tokens included; leave out --plain to serve https:// and wss://',
    );
  }
  // Loaded only now: --help, --version and a usage error answer at once, without loading the
  // storage drivers and everything else the relay needs (about a second of start-up).
  const { startRelay } = await import('../node/relay.js');
  const relay = await startRelay({ ...parsed.options, logger, processMetrics: true });
  if (pretty) {
    // In a terminal: where to open it, the fingerprint to read out, how to stop, set apart.
    process.stdout.write(
      startBanner({
        version: RELAY_VERSION,
        scheme: relay.tlsFingerprint === null ? 'http' : 'https',
        host: relay.options.host,
        port: relay.port,
        lanAddresses: lanIPv4Addresses(),
        tlsFingerprint: relay.tlsFingerprint,
      }),
    );
  } else if (relay.tlsFingerprint !== null) {
    // The line a host reads out: colleagues compare it with what their browser or app shows.
    logger.info(
      { url: relay.url, tlsFingerprint: relay.tlsFingerprint },
      `open ${relay.url}/ and check the certificate's SHA-256 fingerprint: ${relay.tlsFingerprint}`,
    );
  }
  // In the background: the room serves while the mDNS announcement goes out (about a second).
  const advert = parsed.mdns
    ? advertiseRelay({
        relay,
        listenHost: relay.options.host,
        dataDir: relay.options.dataDir,
        passcodeRequired: relay.options.passcode !== null,
        logger,
      })
    : null;
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    // Goodbye packets first (at most WITHDRAW_TIMEOUT_MS), so browsers drop the room at once.
    (advert?.withdraw() ?? Promise.resolve())
      .then(() => relay.close())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'close failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/**
 * One clear line for an operating condition (an error whose `code` starts with `ERR_`: a
 * read-only or full data folder, a bad option), the stack for anything else (a bug).
 */
function describeStartFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = 'code' in error && typeof error.code === 'string' ? error.code : null;
  if (code?.startsWith('ERR_') === true) return `${error.message} (${code})`;
  return error.stack ?? error.message;
}

main().catch((error: unknown) => {
  process.stderr.write(`parley-relay failed to start: ${describeStartFailure(error)}\n`);
  process.exit(1);
});
