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
} from './options.js';
export { RELAY_VERSION } from './version.js';
