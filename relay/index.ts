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
export {
  createBonjourMdns,
  multicastProblem,
  SERVICE_TYPE,
  type Mdns,
  type MdnsBrowser,
  type MdnsPublication,
  type MdnsService,
  type BonjourOptions,
} from './mdns.js';
export { TXT_KEYS, advertTxt, instanceName, type AdvertisedRoom } from './mdns-advert.js';
export { loadOrCreateRelayId } from './relay-id.js';
