/**
 * "Host a room on this computer": starts the embedded relay (relay/'s public entry) with its data
 * in the user-data folder, serving https/wss with its self-signed certificate (made on first run
 * in `<dataDir>/tls/` and kept, so colleagues' pins hold), advertises it as `_parley._tcp` by mDNS
 * with the TXT record the CLI host sends too (relay/discovery/mdns-advert.ts: protocol version, host display
 * name, relay id, certificate fingerprint), and on stop or quit withdraws the advertisement with
 * goodbye packets before closing the relay. Operations run one at a time, in call order.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import {
  advertTxt,
  instanceName,
  lanIPv4Addresses,
  loadOrCreateRelayId,
  startRelay,
  type Mdns,
  type MdnsPublication,
  type RunningRelay,
} from '../../relay/index.js';
import type { HostingStartInput, HostingStatus } from '../shared/bridge.js';
import { fail, ok, type Result } from '../shared/result.js';

export interface HostingControllerOptions {
  /** Folder for the relay's database and its id (inside the app's user-data folder). */
  dataDir: string;
  /** The mDNS responder to advertise with, asked at each start; null: discovery is off. */
  mdns: () => Mdns | null;
  /** Interface the relay listens on; 0.0.0.0 so colleagues can reach it. */
  listenHost?: string;
  sqliteNativeBinding?: string;
  webDir?: string | null;
  logger?: Logger;
  /** Replaceable for tests; defaults to relay/'s startRelay. */
  startRelay?: typeof startRelay;
  lanAddresses?: () => string[];
  /** `auto` (default): https/wss with the kept self-signed certificate; `plain`: http/ws, an
   * explicit opt-in (anyone on the network can read the traffic). */
  transport?: 'auto' | 'plain';
}

const MAX_NAME_CHARS = 64;

function validateInput(input: HostingStartInput): Result<HostingStartInput> {
  if (!Number.isInteger(input.port) || input.port < 0 || input.port > 65_535) {
    return fail('invalid_port', 'the port must be 0 to 65535');
  }
  const name = input.displayName.trim();
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (name.length === 0 || name.length > MAX_NAME_CHARS || /[\u0000-\u001f\u007f]/.test(name)) {
    return fail('invalid_name', 'display names are 1 to 64 characters');
  }
  if (input.passcode !== undefined && input.passcode !== null && input.passcode.length > 256) {
    return fail('invalid_passcode', 'the passcode is at most 256 characters');
  }
  return ok({ ...input, displayName: name });
}

export class HostingController {
  readonly #o: HostingControllerOptions;
  readonly #relayId: string;
  readonly #events = new EventEmitter();
  #relay: RunningRelay | null = null;
  #publication: MdnsPublication | null = null;
  #status: HostingStatus;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: HostingControllerOptions) {
    this.#o = options;
    this.#relayId = loadOrCreateRelayId(options.dataDir);
    this.#status = this.#stoppedStatus(null);
  }

  get relayId(): string {
    return this.#relayId;
  }

  status(): HostingStatus {
    return { ...this.#status, lanUrls: [...this.#status.lanUrls] };
  }

  onChange(listener: (status: HostingStatus) => void): () => void {
    this.#events.on('change', listener);
    return () => this.#events.off('change', listener);
  }

  /** Starts hosting; when already hosting, restarts with the new port, passcode and name. */
  start(input: HostingStartInput): Promise<Result<HostingStatus>> {
    return this.#serial(async () => {
      const valid = validateInput(input);
      if (!valid.ok) return valid;
      if (this.#relay !== null) await this.#shutdown();
      return this.#startNow(valid.value);
    });
  }

  /** Withdraws the advertisement (goodbye packets), then closes the relay. Idempotent. */
  stop(): Promise<Result<HostingStatus>> {
    return this.#serial(async () => {
      if (this.#relay === null) {
        this.#set(this.#stoppedStatus(null));
        return ok(this.status());
      }
      await this.#shutdown();
      return ok(this.status());
    });
  }

  /** Withdraws the advertisement (goodbye packets) but keeps hosting: discovery was switched off. */
  withdrawAdvertisement(): Promise<void> {
    return this.#serial(async () => {
      const publication = this.#publication;
      this.#publication = null;
      if (publication === null) return;
      await publication.stop();
      this.#set({ ...this.#status, advertised: false });
    });
  }

  #serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #startNow(input: HostingStartInput): Promise<Result<HostingStatus>> {
    const passcode = input.passcode === undefined || input.passcode === '' ? null : input.passcode;
    this.#set({
      ...this.#stoppedStatus(null),
      state: 'starting',
      displayName: input.displayName,
      passcodeRequired: passcode !== null,
    });
    let relay: RunningRelay;
    try {
      relay = await (this.#o.startRelay ?? startRelay)({
        port: input.port,
        host: this.#o.listenHost ?? '0.0.0.0',
        dataDir: this.#o.dataDir,
        passcode,
        webDir: this.#o.webDir ?? null,
        tls: this.#o.transport === 'plain' ? null : { mode: 'auto' },
        ...(this.#o.sqliteNativeBinding === undefined
          ? {}
          : { sqliteNativeBinding: this.#o.sqliteNativeBinding }),
        ...(this.#o.logger === undefined ? {} : { logger: this.#o.logger }),
      });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const failure =
        code === 'EADDRINUSE'
          ? { code: 'port_in_use', message: `port ${input.port} is already in use` }
          : code === 'EACCES'
            ? { code: 'port_denied', message: `not allowed to listen on port ${input.port}` }
            : {
                code: 'start_failed',
                message: error instanceof Error ? error.message : String(error),
              };
      this.#set({ ...this.#stoppedStatus(failure), state: 'failed' });
      return fail(failure.code, failure.message);
    }
    this.#relay = relay;
    let advertised = false;
    let error: HostingStatus['error'] = null;
    const mdns = this.#o.mdns();
    if (mdns !== null) {
      try {
        this.#publication = await mdns.publish({
          name: instanceName(input.displayName, this.#relayId),
          port: relay.port,
          txt: advertTxt({
            displayName: input.displayName,
            relayId: this.#relayId,
            passcodeRequired: passcode !== null,
            tlsFingerprint: relay.tlsFingerprint,
          }),
        });
        advertised = true;
      } catch (cause) {
        // Hosting still works by address; the UI shows the LAN URLs to type by hand.
        error = {
          code: 'advertise_failed',
          message: cause instanceof Error ? cause.message : String(cause),
        };
        this.#o.logger?.warn({ err: cause }, 'mDNS advertisement failed; hosting without it');
      }
    }
    const lan = (this.#o.lanAddresses ?? lanIPv4Addresses)();
    const scheme = relay.tlsFingerprint === null ? 'http' : 'https';
    this.#set({
      state: 'running',
      url: `${scheme}://127.0.0.1:${relay.port}`,
      lanUrls: lan.map((address) => `${scheme}://${address}:${relay.port}`),
      tlsFingerprint: relay.tlsFingerprint,
      port: relay.port,
      displayName: input.displayName,
      relayId: this.#relayId,
      passcodeRequired: passcode !== null,
      advertised,
      error,
    });
    return ok(this.status());
  }

  async #shutdown(): Promise<void> {
    this.#set({ ...this.#status, state: 'stopping' });
    const publication = this.#publication;
    this.#publication = null;
    if (publication !== null) {
      try {
        await publication.stop();
      } catch (error) {
        this.#o.logger?.warn({ err: error }, 'mDNS goodbye failed');
      }
    }
    const relay = this.#relay;
    this.#relay = null;
    await relay?.close();
    this.#set(this.#stoppedStatus(null));
  }

  #stoppedStatus(error: HostingStatus['error']): HostingStatus {
    return {
      state: 'stopped',
      url: null,
      lanUrls: [],
      port: null,
      displayName: null,
      relayId: this.#relayId,
      passcodeRequired: false,
      advertised: false,
      tlsFingerprint: null,
      error,
    };
  }

  #set(status: HostingStatus): void {
    this.#status = status;
    this.#events.emit('change', this.status());
  }
}
