/**
 * The relays the app's pages may connect to, i.e. the Content-Security-Policy's `connect-src`:
 * relays the user chose (typed addresses, invites; persisted), plus live sources the main
 * process knows (server profiles, the hosted relay; not mDNS-discovered hosts until chosen).
 */
import { fail, ok, type Result } from '../shared/result.js';
import { readJsonFile, writeJsonFile } from './json-file.js';
import { normalizeRelayUrl } from './relay-url.js';

/** Chosen relays remembered at most; the oldest is forgotten first. */
export const MAX_CHOSEN_RELAYS = 100;

export class RelayAllowList {
  readonly #path: string;
  readonly #live: () => readonly string[];
  #chosen: string[];

  constructor(options: { path: string; live: () => readonly string[] }) {
    this.#path = options.path;
    this.#live = options.live;
    const stored = readJsonFile(options.path);
    this.#chosen = Array.isArray(stored)
      ? stored
          .filter((entry): entry is string => typeof entry === 'string')
          .map(normalizeRelayUrl)
          .filter((entry): entry is string => entry !== null)
          .slice(-MAX_CHOSEN_RELAYS)
      : [];
  }

  /** Every allowed relay base URL, unique, sorted. */
  all(): string[] {
    const live = this.#live()
      .map(normalizeRelayUrl)
      .filter((entry): entry is string => entry !== null);
    return [...new Set([...this.#chosen, ...live])].sort();
  }

  /** Adds a relay the user chose; returns its normalised URL. */
  allow(address: string): Result<string> {
    const url = normalizeRelayUrl(address);
    if (url === null) return fail('invalid_address', 'only http(s) relay addresses can be allowed');
    if (!this.#chosen.includes(url)) {
      this.#chosen = [...this.#chosen, url].slice(-MAX_CHOSEN_RELAYS);
      writeJsonFile(this.#path, this.#chosen);
    }
    return ok(url);
  }
}
