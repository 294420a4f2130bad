/** The relay's public entry: what the desktop app and other embedders import. */
export { startRelay, type RunningRelay } from './node/relay.js';
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
} from './core/options.js';
export {
  normalizeFingerprint,
  fingerprintOfDer,
  fingerprintFromElectron,
} from './node/tls-fingerprint.js';
export { RELAY_VERSION } from './core/version.js';
export { lanIPv4Addresses } from './discovery/lan-addresses.js';
export { StorageOpenError, type StorageOpenErrorCode } from './core/storage-errors.js';
export {
  createBonjourMdns,
  multicastProblem,
  SERVICE_TYPE,
  type Mdns,
  type MdnsBrowser,
  type MdnsPublication,
  type MdnsService,
  type BonjourOptions,
} from './discovery/mdns.js';
export { TXT_KEYS, advertTxt, instanceName, type AdvertisedRoom } from './discovery/mdns-advert.js';
export { loadOrCreateRelayId } from './discovery/relay-id.js';
