/**
 * A hosted room's mDNS advertisement (`_parley._tcp`), defined once for the desktop app's "Host a
 * room" (electron/main/hosting-controller.ts) and the CLI host (relay/cli/cli.ts): the instance name,
 * the TXT record (keys documented in relay/README.md, "mDNS"), and, for the CLI, advertising a
 * running relay and withdrawing it with goodbye packets when it stops. An advertisement that
 * cannot go out is a logged warning: the room still works, by address.
 */
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { createBonjourMdns, type Mdns, type MdnsPublication } from './mdns.js';
import { PROTOCOL_VERSION } from '../protocol/events.js';
import { RateLimitedLog } from '../core/rate-limited-log.js';
import { loadOrCreateRelayId, newRelayId } from './relay-id.js';
import { RELAY_VERSION } from '../core/version.js';

/** TXT record keys (short, as DNS-SD recommends). Documented in relay/README.md. */
export const TXT_KEYS = {
  protocolVersion: 'v',
  displayName: 'name',
  relayId: 'id',
  passcode: 'pc',
  relayVersion: 'rv',
  /** SHA-256 of the relay's certificate, `AB:12:…`; absent when it serves plain http/ws. */
  fingerprint: 'fp',
} as const;

/** What a room's advertisement says about it. */
export interface AdvertisedRoom {
  /** Who hosts it, shown in the discovery list (1 to 64 characters). */
  displayName: string;
  /** The relay's stable id (relay-id.ts). */
  relayId: string;
  passcodeRequired: boolean;
  /** SHA-256 of the served certificate; null when the relay serves plain http/ws. */
  tlsFingerprint: string | null;
}

/** The TXT record of a room: the same for the desktop app and the CLI host. */
export function advertTxt(room: AdvertisedRoom): Record<string, string> {
  return {
    [TXT_KEYS.protocolVersion]: String(PROTOCOL_VERSION),
    [TXT_KEYS.displayName]: room.displayName,
    [TXT_KEYS.relayId]: room.relayId,
    [TXT_KEYS.passcode]: room.passcodeRequired ? '1' : '0',
    [TXT_KEYS.relayVersion]: RELAY_VERSION,
    ...(room.tlsFingerprint === null ? {} : { [TXT_KEYS.fingerprint]: room.tlsFingerprint }),
  };
}

/** The mDNS instance name: the display name plus 4 characters of the relay id, so two hosts
 * called "Ana" do not collide; cut to fit one 63-byte DNS label. */
export function instanceName(displayName: string, relayId: string): string {
  const suffix = ` (${relayId.slice(0, 4)})`;
  let name = displayName.replace(/\./g, ' ');
  while (new TextEncoder().encode(name + suffix).length > 63) name = name.slice(0, -1);
  return name + suffix;
}

/** Longest the CLI waits for its goodbye packets when it stops, before it closes anyway. */
export const WITHDRAW_TIMEOUT_MS = 500;
/** Repeated mDNS socket errors (a network that went away) are logged once per this interval. */
const SOCKET_ERROR_LOG_MS = 60_000;
const MAX_DISPLAY_NAME_CHARS = 64;

/** A relay bound to loopback only: nobody else can reach it, so there is nothing to advertise. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^::ffff:/i, '');
  return bare === 'localhost' || bare === '::1' || /^127\./.test(bare);
}

/** The CLI host's display name: this machine's host name (control characters dropped). */
export function cliDisplayName(): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is dropped
  const CONTROL = /[\u0000-\u001f\u007f]/g;
  const name = hostname().replace(CONTROL, '').trim();
  return name.slice(0, MAX_DISPLAY_NAME_CHARS) || 'Parley';
}

export interface AdvertiseRelayOptions {
  /** The running relay's port and certificate fingerprint. */
  relay: { port: number; tlsFingerprint: string | null };
  /** The interface the relay listens on: loopback means no advertisement. */
  listenHost: string;
  /** Where the relay id is kept (`<dataDir>/relay-id`); null: a new id for this run. */
  dataDir: string | null;
  passcodeRequired: boolean;
  logger: Logger;
  /** Default: the machine's host name. */
  displayName?: string;
  /** Replaceable for tests; default: bonjour-service on every interface. */
  createMdns?: (onError: (error: unknown) => void) => Mdns;
}

export interface RelayAdvertisement {
  /** Settles when the advertisement went out (true) or could not (false: logged as a warning). */
  readonly published: Promise<boolean>;
  /**
   * Sends the goodbye packets (TTL 0) and closes the multicast socket, waiting at most
   * WITHDRAW_TIMEOUT_MS (for an announcement still in progress, too). Never rejects.
   */
  withdraw(): Promise<void>;
}

/**
 * Advertises a running relay as `_parley._tcp` in the background (probing and the first
 * announcement take about a second; the relay serves meanwhile). Failures are warnings.
 */
export function advertiseRelay(options: AdvertiseRelayOptions): RelayAdvertisement {
  const { logger, relay } = options;
  if (isLoopbackHost(options.listenHost)) {
    logger.info(
      { host: options.listenHost },
      'not advertising by mDNS: the relay listens on loopback only',
    );
    return { published: Promise.resolve(false), withdraw: () => Promise.resolve() };
  }
  const socketErrors = new RateLimitedLog({
    logger,
    intervalMs: SOCKET_ERROR_LOG_MS,
    level: 'warn',
    message: 'mDNS socket error',
    recoveredMessage: 'mDNS socket works again',
  });
  let mdns: Mdns | null = null;
  const publishing = (async (): Promise<MdnsPublication | null> => {
    try {
      const create = options.createMdns ?? ((onError) => createBonjourMdns({ onError }));
      mdns = create((error) => socketErrors.occurred({ err: error }));
      const relayId =
        options.dataDir === null ? newRelayId() : loadOrCreateRelayId(options.dataDir);
      const displayName = options.displayName ?? cliDisplayName();
      const name = instanceName(displayName, relayId);
      const txt = advertTxt({
        displayName,
        relayId,
        passcodeRequired: options.passcodeRequired,
        tlsFingerprint: relay.tlsFingerprint,
      });
      const publication = await mdns.publish({ name, port: relay.port, txt });
      logger.info(
        { mdns: { name, type: '_parley._tcp', port: relay.port, txt } },
        'advertising the room on the local network by mDNS (--no-mdns turns this off)',
      );
      return publication;
    } catch (error) {
      logger.warn(
        { err: error },
        'mDNS advertisement failed: colleagues will not find the room in their list; they can ' +
          'still connect by address',
      );
      return null;
    }
  })();
  let withdrawing: Promise<void> | null = null;
  const withdrawNow = async (): Promise<void> => {
    const publication = await publishing;
    try {
      if (publication !== null) {
        await publication.stop();
        logger.info('mDNS advertisement withdrawn (goodbye sent)');
      }
    } catch (error) {
      logger.warn({ err: error }, 'mDNS goodbye failed');
    }
    try {
      await mdns?.destroy();
    } catch (error) {
      logger.warn({ err: error }, 'closing the mDNS socket failed');
    }
  };
  return {
    published: publishing.then((publication) => publication !== null),
    withdraw: () => {
      withdrawing ??= (async () => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const timedOut = new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), WITHDRAW_TIMEOUT_MS);
        });
        const late = await Promise.race([withdrawNow().then(() => false), timedOut]);
        clearTimeout(timer);
        if (late) {
          logger.warn(
            { timeoutMs: WITHDRAW_TIMEOUT_MS },
            'mDNS goodbye did not go out in time; browsers drop the room when its records expire',
          );
        }
      })();
      return withdrawing;
    },
  };
}
