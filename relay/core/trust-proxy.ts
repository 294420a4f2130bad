/**
 * The client's address behind a reverse proxy or load balancer. Off by default: the TCP peer is
 * the client, and `X-Forwarded-For` (the client's to forge) changes nothing. With `trustProxy`
 * (a list of proxy addresses, or `loopback`), a request whose TCP peer is one of those proxies
 * is from the address its `X-Forwarded-For` names: walking the header from its end (the hop the
 * trusted proxy added) past further trusted proxies, the first other address. That address is
 * what sign-in limits, per-address connection limits and logs use.
 */
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

/** `loopback` (127.0.0.0/8 and ::1), or exact proxy addresses (IPv4 or IPv6). */
export type TrustProxy = 'loopback' | readonly string[];

/** `::ffff:10.0.0.1` (an IPv4 peer on a dual-stack socket) is `10.0.0.1`. */
function plain(address: string): string {
  return address.toLowerCase().startsWith('::ffff:') && isIP(address.slice(7)) === 4
    ? address.slice(7)
    : address.toLowerCase();
}

/** Whether `address` is a proxy whose `X-Forwarded-For` is believed. */
export function isTrustedProxy(address: string, trust: TrustProxy | null): boolean {
  if (trust === null || address === '') return false;
  const peer = plain(address);
  if (trust === 'loopback') return peer === '::1' || (isIP(peer) === 4 && peer.startsWith('127.'));
  return trust.some((proxy) => plain(proxy) === peer);
}

/** Checks an option value; returns an error message, or null when it is valid. */
export function trustProxyProblem(value: unknown): string | null {
  if (value === null || value === 'loopback') return null;
  if (!Array.isArray(value) || value.length === 0) {
    return "expected null, 'loopback' or a non-empty list of proxy IP addresses";
  }
  const bad = value.find((entry) => typeof entry !== 'string' || isIP(entry) === 0);
  return bad === undefined ? null : `not an IP address: ${String(bad)}`;
}

/** Parses `--trust-proxy` / `PARLEY_TRUST_PROXY`: `loopback`, `1` (= loopback) or `ip,ip,…`. */
export function parseTrustProxy(text: string): TrustProxy {
  const trimmed = text.trim();
  if (trimmed === 'loopback' || trimmed === '1' || trimmed === 'true') return 'loopback';
  return trimmed
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
}

/** The client address of `req`: the TCP peer, or behind a trusted proxy its forwarded client. */
export function clientAddress(req: IncomingMessage, trust: TrustProxy | null): string {
  const peer = req.socket.remoteAddress ?? '';
  if (!isTrustedProxy(peer, trust)) return peer;
  const header = req.headers['x-forwarded-for'];
  const hops = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((hop) => hop.trim());
  for (let index = hops.length - 1; index >= 0; index -= 1) {
    const hop = hops[index] ?? '';
    // A hop that is not an address: the chain cannot be followed further; the last proxy it
    // reached is the best known client address.
    if (isIP(hop) === 0) return peer;
    if (!isTrustedProxy(hop, trust)) return plain(hop);
  }
  return peer;
}

/** Groups of an IPv6 address kept by {@link limitKey}: its /64, 4 groups of 16 bits. */
const IPV6_PREFIX_GROUPS = 4;

/**
 * The key per-address limits (connection cap, sign-in attempts) count under: an IPv4 address
 * itself, an IPv6 address by its /64. Why: a single host or home line usually holds a whole /64,
 * so counting each IPv6 address apart would let it take 2^64 fresh allowances. Logs keep the
 * full address.
 */
export function limitKey(address: string): string {
  const peer = plain(address).split('%')[0] ?? '';
  if (isIP(peer) !== 6) return peer;
  const halves = peer.split('::');
  const groups = (text: string | undefined): string[] =>
    // An embedded IPv4 tail (::ffff:1.2.3.4 is handled above) counts as two groups.
    text === undefined || text === ''
      ? []
      : text.split(':').flatMap((group) => (group.includes('.') ? ['0', '0'] : [group]));
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  const full =
    halves.length === 1
      ? head
      : [...head, ...Array<string>(8 - head.length - tail.length).fill('0'), ...tail];
  const prefix = full
    .slice(0, IPV6_PREFIX_GROUPS)
    .map((group) => Number.parseInt(group, 16).toString(16));
  return `${prefix.join(':')}::/64`;
}
