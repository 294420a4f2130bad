/**
 * Continuous discovery of `_parley._tcp` hosts: the list changes live as hosts announce
 * themselves and say goodbye. Typing an address by hand (relay-probe.ts) is the fallback for
 * networks that block multicast.
 */
import { EventEmitter } from 'node:events';
import {
  normalizeFingerprint,
  TXT_KEYS,
  type Mdns,
  type MdnsBrowser,
  type MdnsService,
} from '../../relay/index.js';
import type { DiscoveredHost } from '../shared/bridge.js';

/** Hosts kept at most; a flood of announcements cannot grow the list without bound. */
export const MAX_DISCOVERED_HOSTS = 256;
const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

function hostForUrl(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

/** Turns one mDNS answer into a list entry; null when it has no usable address or port. */
export function toDiscoveredHost(
  service: MdnsService,
  selfRelayId: string | null,
): DiscoveredHost | null {
  const addresses = [
    ...new Set([
      ...service.addresses,
      ...(service.refererAddress === null ? [] : [service.refererAddress]),
    ]),
  ]
    // Link-local IPv6 needs a zone id a URL cannot carry; IPv4 first.
    .filter((address) => !address.toLowerCase().startsWith('fe80:'))
    .sort((a, b) => Number(IPV4.test(b)) - Number(IPV4.test(a)));
  const first = addresses[0];
  if (
    first === undefined ||
    !Number.isInteger(service.port) ||
    service.port < 1 ||
    service.port > 65_535
  ) {
    return null;
  }
  const version = Number(service.txt[TXT_KEYS.protocolVersion]);
  const relayId = service.txt[TXT_KEYS.relayId];
  const id = relayId !== undefined && /^[0-9a-f]{32}$/.test(relayId) ? relayId : service.fqdn;
  // A TXT value is untrusted input: anything but a SHA-256 counts as no fingerprint.
  const fpText = service.txt[TXT_KEYS.fingerprint];
  const fingerprint = fpText === undefined ? null : normalizeFingerprint(fpText);
  return {
    id,
    name: service.name,
    displayName: (service.txt[TXT_KEYS.displayName] ?? service.name).slice(0, 64),
    addresses,
    port: service.port,
    // A host that announces a certificate serves https/wss; one that does not, plain http/ws.
    url: `${fingerprint === null ? 'http' : 'https'}://${hostForUrl(first)}:${service.port}`,
    fingerprint,
    protocolVersion: Number.isInteger(version) ? version : null,
    passcodeRequired: service.txt[TXT_KEYS.passcode] === '1',
    isSelf: selfRelayId !== null && id === selfRelayId,
  };
}

export interface DiscoveryBrowserOptions {
  /** The mDNS responder, asked at each start; null: discovery is switched off (every test
   * outside a network namespace, and e2e). */
  mdns: () => Mdns | null;
  /** This app's own relay id, to mark its own room in the list. */
  selfRelayId?: () => string | null;
}

export class DiscoveryBrowser {
  readonly #o: DiscoveryBrowserOptions;
  readonly #events = new EventEmitter();
  /** By fqdn: one entry per advertised service. */
  #byFqdn = new Map<string, DiscoveredHost>();
  #browser: MdnsBrowser | null = null;

  constructor(options: DiscoveryBrowserOptions) {
    this.#o = options;
  }

  get running(): boolean {
    return this.#browser !== null;
  }

  start(): void {
    const mdns = this.#o.mdns();
    if (this.#browser !== null || mdns === null) return;
    this.#browser = mdns.browse({
      up: (service) => this.#up(service),
      down: (service) => this.#down(service),
    });
  }

  stop(): void {
    this.#browser?.stop();
    this.#browser = null;
    if (this.#byFqdn.size > 0) {
      this.#byFqdn = new Map();
      this.#emit();
    }
  }

  /** Forgets everything and browses again: hosts that vanished without a goodbye drop out. */
  refresh(): DiscoveredHost[] {
    if (this.#browser === null) return [];
    this.stop();
    this.start();
    return this.hosts();
  }

  hosts(): DiscoveredHost[] {
    return [...this.#byFqdn.values()].sort(
      (a, b) => a.displayName.localeCompare(b.displayName) || a.url.localeCompare(b.url),
    );
  }

  onChange(listener: (hosts: DiscoveredHost[]) => void): () => void {
    this.#events.on('change', listener);
    return () => this.#events.off('change', listener);
  }

  #up(service: MdnsService): void {
    const host = toDiscoveredHost(service, this.#o.selfRelayId?.() ?? null);
    if (host === null) return;
    if (!this.#byFqdn.has(service.fqdn) && this.#byFqdn.size >= MAX_DISCOVERED_HOSTS) return;
    this.#byFqdn = new Map(this.#byFqdn).set(service.fqdn, host);
    this.#emit();
  }

  #down(service: MdnsService): void {
    if (!this.#byFqdn.has(service.fqdn)) return;
    const next = new Map(this.#byFqdn);
    next.delete(service.fqdn);
    this.#byFqdn = next;
    this.#emit();
  }

  #emit(): void {
    this.#events.emit('change', this.hosts());
  }
}
