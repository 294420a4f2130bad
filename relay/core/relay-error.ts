/**
 * The relay's coded error for programming errors and operating conditions (STYLE.md: "programming
 * errors throw Error subclasses with a code"). Expected failures a client can cause are values
 * (`Failure`, relay/protocol/errors.ts), never these.
 *
 * None of these codes reaches a client: a frame or request whose handler throws one is answered
 * `internal_error` (and logged with its code). Codes starting with `ERR_` are operating conditions
 * the CLI prints as one line (relay/cli/cli.ts) instead of a stack:
 *
 * | code | thrown when |
 * | --- | --- |
 * | `ERR_TLS_CERTIFICATE` | a TLS certificate is not PEM X.509 (node/tls.ts; reported as option `tls`) |
 * | `ERR_TLS_KEY` | a TLS key is not a PEM private key (node/tls.ts) |
 * | `ERR_TLS_KEY_MISMATCH` | the TLS key does not belong to the certificate (node/tls.ts) |
 * | `ERR_SCHEMA_NEWER` | the SQLite database was written by a newer relay (store/sqlite) |
 * | `ERR_MDNS_UNAVAILABLE` | mDNS cannot announce: no interface or no multicast route (discovery/mdns.ts) |
 * | `ERR_MDNS_NOT_ANNOUNCED` | the mDNS announcement did not go out in time (name in use?) or bonjour failed (discovery/mdns.ts) |
 * | `auth_no_key` | JWT auth without a key; resolveOptions refuses that first, so this is a bug |
 * | `auth_not_issuer` | a token was asked of a relay that only verifies identity-provider tokens (a bug: HTTP checks `issuesTokens` first) |
 * | `store_closed` | a write reached a store after close() (answered as `storage_error` to the sender) |
 * | `store_invariant` | the database broke a promise the store relies on (a row written in this transaction is missing) |
 * | `channel_mismatch` | the socket server routed a frame to the channel of another topic kind (transport/channel.ts) |
 */

export type RelayErrorCode =
  | 'ERR_TLS_CERTIFICATE'
  | 'ERR_TLS_KEY'
  | 'ERR_TLS_KEY_MISMATCH'
  | 'ERR_SCHEMA_NEWER'
  | 'ERR_MDNS_UNAVAILABLE'
  | 'ERR_MDNS_NOT_ANNOUNCED'
  | 'auth_no_key'
  | 'auth_not_issuer'
  | 'store_closed'
  | 'store_invariant'
  | 'channel_mismatch';

export class RelayError extends Error {
  constructor(
    readonly code: RelayErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RelayError';
  }
}
