/**
 * mDNS through bonjour-service, behind a small interface so the hosting controller and the
 * discovery browser are unit-tested with an in-memory fake, and the real thing is tested only
 * inside network namespaces (relay/cli/cli-mdns.netns.test.ts, electron/main/discovery.netns.test.ts).
 * NEVER create this in a test outside a namespace: it multicasts on every interface of the machine.
 *
 * Used by the CLI host (relay/cli/cli.ts, through mdns-advert.ts) and by the desktop app
 * (electron/main), so both advertise and browse the same way.
 */
import { createSocket } from 'node:dgram';
import type { EventEmitter } from 'node:events';
import { networkInterfaces } from 'node:os';
import Bonjour from 'bonjour-service';
import { RelayError } from '../core/relay-error.js';

/** The service type Parley advertises: `_parley._tcp`. */
export const SERVICE_TYPE = 'parley';

/** The mDNS multicast group and port (RFC 6762). */
const MDNS_GROUP = '224.0.0.251';
const MDNS_PORT = 5353;

export interface MdnsService {
  /** Instance name, e.g. "Ana's room (3f2a)". */
  name: string;
  fqdn: string;
  host: string;
  port: number;
  addresses: string[];
  /** Address the answer came from (useful when A records are missing). */
  refererAddress: string | null;
  txt: Record<string, string>;
}

export interface MdnsPublication {
  /** Withdraws the advertisement with goodbye packets (TTL 0); resolves once they are sent. */
  stop(): Promise<void>;
}

export interface MdnsBrowser {
  /** Sends a fresh query (hosts that are up answer again). */
  update(): void;
  stop(): void;
}

export interface Mdns {
  /**
   * Probes the name, announces, and resolves once the first announcement went out. Rejects when
   * this machine cannot multicast (no network interface, no route to 224.0.0.251), when the name
   * is taken, or when nothing went out within a few seconds.
   */
  publish(input: {
    name: string;
    port: number;
    txt: Record<string, string>;
  }): Promise<MdnsPublication>;
  browse(handlers: {
    up(service: MdnsService): void;
    down(service: MdnsService): void;
  }): MdnsBrowser;
  /** Closes the multicast socket. */
  destroy(): Promise<void>;
}

const PUBLISH_TIMEOUT_MS = 5_000;

function txtToStrings(txt: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof txt !== 'object' || txt === null) return out;
  for (const [key, value] of Object.entries(txt)) {
    if (typeof value === 'string') out[key] = value;
    else if (value instanceof Uint8Array) out[key] = new TextDecoder().decode(value);
    else if (typeof value === 'number' || typeof value === 'boolean') out[key] = String(value);
  }
  return out;
}

function toService(service: Bonjour.Service): MdnsService {
  return {
    name: service.name,
    fqdn: service.fqdn,
    host: service.host,
    port: service.port,
    addresses: [...(service.addresses ?? [])],
    refererAddress: service.referer?.address ?? null,
    txt: txtToStrings(service.txt),
  };
}

/**
 * Why an announcement cannot go out from this machine, or null when it can: no interface with an
 * IPv4 address other than loopback, or no route to the mDNS group. bonjour-service reports
 * neither (it drops the send error and still says the service is up), so this asks first. A UDP
 * `connect` only looks the route up: it sends nothing.
 */
export async function multicastProblem(): Promise<string | null> {
  const external = Object.values(networkInterfaces())
    .flat()
    .some((address) => address?.family === 'IPv4' && !address.internal);
  if (!external) return 'no network interface with an IPv4 address (only loopback)';
  const socket = createSocket('udp4');
  try {
    return await new Promise<string | null>((resolve) => {
      const failed = (error: Error): void => resolve(`no route to ${MDNS_GROUP}: ${error.message}`);
      socket.once('error', failed);
      // Node passes a failed connect to the callback (its types leave the argument out).
      socket.connect(MDNS_PORT, MDNS_GROUP, (error?: Error) => {
        if (error === undefined || error === null) resolve(null);
        else failed(error);
      });
    });
  } finally {
    socket.close();
  }
}

export interface BonjourOptions {
  /** Interface address to bind and send multicast on (default: all). */
  interface?: string;
  /** Socket errors (the mDNS port taken, a failed answer to a query): the process carries on. */
  onError?: (error: unknown) => void;
}

export function createBonjourMdns(options: BonjourOptions = {}): Mdns {
  // The options go to multicast-dns as they are; bonjour-service types them too narrowly.
  const mdnsOptions = (
    options.interface === undefined ? {} : { interface: options.interface }
  ) as ConstructorParameters<typeof Bonjour>[0];
  const onError = (error: unknown): void => options.onError?.(error);
  const bonjour = new Bonjour(mdnsOptions, onError);
  // bonjour-service 1.4.4 registers no 'error' listener on its multicast-dns socket, so a failed
  // bind (port 5353 taken: EADDRINUSE, EACCES) is an unhandled 'error' event that kills the
  // process. Fixed upstream, not yet released: https://github.com/onlxltd/bonjour-service/issues/91
  // The bind fails asynchronously, so a listener added now is in time.
  (bonjour as unknown as { server: { mdns: EventEmitter } }).server.mdns.on('error', onError);
  return {
    publish: async (input) => {
      const problem = await multicastProblem();
      if (problem !== null)
        throw new RelayError(
          'ERR_MDNS_UNAVAILABLE',
          `mDNS cannot announce "${input.name}": ${problem}`,
        );
      return new Promise((resolve, reject) => {
        const service = bonjour.publish({
          name: input.name,
          type: SERVICE_TYPE,
          protocol: 'tcp',
          port: input.port,
          txt: input.txt,
          // IPv4 is what the namespaces and most office networks route; the AAAA records of
          // link-local addresses are useless to a browser without a zone id.
          disableIPv6: true,
        });
        const publication: MdnsPublication = {
          stop: () =>
            new Promise<void>((done) => {
              service.stop?.(() => done());
            }),
        };
        const timer = setTimeout(() => {
          service.removeListener('up', onUp);
          void publication.stop();
          reject(
            new RelayError(
              'ERR_MDNS_NOT_ANNOUNCED',
              `mDNS announcement of "${input.name}" did not go out (name in use?)`,
            ),
          );
        }, PUBLISH_TIMEOUT_MS);
        const onUp = (): void => {
          clearTimeout(timer);
          resolve(publication);
        };
        service.once('up', onUp);
        service.on('error', (error: unknown) => {
          clearTimeout(timer);
          reject(
            error instanceof Error
              ? error
              : new RelayError('ERR_MDNS_NOT_ANNOUNCED', String(error), { cause: error }),
          );
        });
      });
    },
    browse: (handlers) => {
      const browser = bonjour.find({ type: SERVICE_TYPE, protocol: 'tcp' });
      const changed = (service: Bonjour.Service): void => handlers.up(toService(service));
      browser.on('up', changed);
      browser.on('srv-update', changed);
      browser.on('txt-update', changed);
      browser.on('down', (service: Bonjour.Service) => handlers.down(toService(service)));
      return {
        update: () => browser.update(),
        stop: () => {
          browser.stop();
          browser.removeAllListeners();
        },
      };
    },
    destroy: () =>
      new Promise<void>((resolve) => {
        bonjour.destroy(() => resolve());
      }),
  };
}
