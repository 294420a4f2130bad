/** The relay's public entry: what the desktop app and other embedders import. */
export { startRelay, type RunningRelay } from './relay.js';
export {
  resolveOptions,
  RelayOptionsError,
  DEFAULT_LIMITS,
  DEFAULT_OPTIONS,
  type RelayOptions,
  type RelayOptionsInput,
  type RelayLimits,
  type AuthOptions,
  type TlsOptions,
} from './options.js';
export {
  normalizeFingerprint,
  fingerprintOfDer,
  fingerprintFromElectron,
} from './tls-fingerprint.js';
export { RELAY_VERSION } from './version.js';
export { lanIPv4Addresses } from './lan-addresses.js';
export { StorageOpenError, type StorageOpenErrorCode } from './storage-errors.js';
