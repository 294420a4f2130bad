/** The relay's version, reported by /healthz. Kept equal to package.json by a test. */
export const RELAY_VERSION = '0.1.0';
