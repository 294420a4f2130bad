/**
 * TLS for host mode: the relay's certificate and key. `{ mode: 'auto' }` generates a self-signed
 * ECDSA P-256 certificate on first run into `<dataDir>/tls/` and reuses it on every later run:
 * clients pin its fingerprint (trust on first use, or the fingerprint from mDNS or an invite), so
 * it must not change. It is regenerated only when missing or unreadable, never because it is
 * old (it is pinned, not validated by a CA; it is valid for about ten years). An operator may give
 * their own certificate instead. Generation uses @peculiar/x509 over Node's WebCrypto (pure JS).
 */
import { createPrivateKey, webcrypto, X509Certificate, type KeyObject } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { lanIPv4Addresses } from '../discovery/lan-addresses.js';
import { RelayOptionsError, type TlsOptions } from '../core/options.js';
import { RelayError } from '../core/relay-error.js';
import { fingerprintOfDer } from './tls-fingerprint.js';

/** Where `tls auto` keeps its files, inside the data folder. */
export const TLS_DIR_NAME = 'tls';
export const CERT_FILE = 'cert.pem';
export const KEY_FILE = 'key.pem';
/** Validity of a generated certificate: long, because clients pin it instead of checking a CA. */
export const CERT_VALIDITY_DAYS = 3_650;

/** A client that opens a connection must finish the TLS handshake within this (Node: 120 s). */
export const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

const DAY_MS = 24 * 3_600 * 1_000;
const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/**
 * @peculiar/x509, loaded on first use: it costs about a quarter of a second of start-up, which
 * only a run that generates a certificate should pay (not plain mode, not loading a kept one).
 */
async function loadX509(): Promise<typeof import('@peculiar/x509')> {
  const x509 = await import('@peculiar/x509');
  // Node's WebCrypto is the standard one; the cast only bridges Node's and the DOM's type names.
  x509.cryptoProvider.set(webcrypto as unknown as ReturnType<typeof x509.cryptoProvider.get>);
  return x509;
}

export interface TlsMaterial {
  certPem: string;
  keyPem: string;
  /** SHA-256 of the DER certificate, `AB:12:…` (see tls-fingerprint.ts). */
  fingerprint: string;
  /** Generated now, loaded from the data folder, or given by the operator. */
  source: 'generated' | 'loaded' | 'given';
}

/** The names a generated certificate covers: loopback, this machine's name, its LAN IPv4s. */
export function certificateNames(): { dns: string[]; ips: string[] } {
  const name = hostname();
  const dns = ['localhost'];
  if (/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})*$/.test(name)) {
    dns.push(name);
    if (!name.includes('.')) dns.push(`${name}.local`);
  }
  const ips = ['127.0.0.1', '::1', ...lanIPv4Addresses()];
  return { dns: [...new Set(dns)], ips: [...new Set(ips)] };
}

/** A new self-signed server certificate (ECDSA P-256, SHA-256) and its PKCS#8 key, as PEM. */
export async function generateSelfSigned(
  names: { dns: string[]; ips: string[] } = certificateNames(),
  now: Date = new Date(),
): Promise<{ certPem: string; keyPem: string }> {
  const x509 = await loadX509();
  const keys = await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify']);
  const serial = Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)));
  serial[0] = (serial[0] ?? 0) & 0x7f; // a positive serial number
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial.toString('hex'),
    name: 'CN=Parley relay, O=Parley',
    // An hour back, so a colleague whose clock is a little behind does not see "not yet valid".
    notBefore: new Date(now.getTime() - 3_600_000),
    notAfter: new Date(now.getTime() + CERT_VALIDITY_DAYS * DAY_MS),
    keys: keys as unknown as Parameters<
      typeof x509.X509CertificateGenerator.createSelfSigned
    >[0]['keys'],
    signingAlgorithm: KEY_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        ...names.dns.map((value) => ({ type: 'dns' as const, value })),
        ...names.ips.map((value) => ({ type: 'ip' as const, value })),
      ]),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  const keyPem = createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' })
    .export({ type: 'pkcs8', format: 'pem' })
    .toString();
  return { certPem: certificate.toString('pem'), keyPem };
}

/**
 * Parses a certificate and key and checks they belong together. Throws a plain Error naming
 * what is wrong; callers decide whether that is a bad option or an unreadable file.
 */
export function checkPair(certPem: string, keyPem: string): string {
  let certificate: X509Certificate;
  let key: KeyObject;
  try {
    certificate = new X509Certificate(certPem);
  } catch (error) {
    throw new RelayError(
      'ERR_TLS_CERTIFICATE',
      `the certificate is not a PEM X.509 certificate (${String(error)})`,
      { cause: error },
    );
  }
  try {
    key = createPrivateKey(keyPem);
  } catch (error) {
    throw new RelayError('ERR_TLS_KEY', `the key is not a PEM private key (${String(error)})`, {
      cause: error,
    });
  }
  if (!certificate.checkPrivateKey(key))
    throw new RelayError('ERR_TLS_KEY_MISMATCH', 'the key does not match the certificate');
  return fingerprintOfDer(certificate.raw);
}

/** Writes to a temporary file and renames it over the target, so a reader never sees half. */
function writeAtomically(path: string, text: string, mode: number): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, text, { mode });
  chmodSync(temporary, mode); // the umask may have narrowed it; never widened
  renameSync(temporary, path);
}

/** Moves an unusable file aside (kept for the operator to inspect), never deletes it. */
function setAside(path: string, stamp: string): void {
  if (existsSync(path)) renameSync(path, `${path}.unreadable-${stamp}`);
}

/**
 * `tls auto` with a data folder: loads `<dataDir>/tls/{cert,key}.pem`, or generates and stores
 * them when missing or unreadable (then the old files are kept beside, renamed, and a warning is
 * logged, because every client that pinned the old certificate will refuse the new one).
 */
export async function loadOrCreateTls(dataDir: string, logger: Logger): Promise<TlsMaterial> {
  const dir = join(dataDir, TLS_DIR_NAME);
  const certPath = join(dir, CERT_FILE);
  const keyPath = join(dir, KEY_FILE);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const certExists = existsSync(certPath);
  const keyExists = existsSync(keyPath);
  if (certExists || keyExists) {
    try {
      const certPem = readFileSync(certPath, 'utf8');
      const keyPem = readFileSync(keyPath, 'utf8');
      const fingerprint = checkPair(certPem, keyPem);
      if ((statSync(keyPath).mode & 0o077) !== 0) {
        chmodSync(keyPath, 0o600);
        logger.warn({ path: keyPath }, 'the TLS key file was readable by others; now 0600');
      }
      return { certPem, keyPem, fingerprint, source: 'loaded' };
    } catch (error) {
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      setAside(certPath, stamp);
      setAside(keyPath, stamp);
      logger.warn(
        { err: error, dir },
        'the TLS certificate or key is missing or unreadable: generating a new one (kept the old ' +
          'files beside it). Clients that pinned the old certificate will refuse this relay ' +
          'until they trust the new fingerprint.',
      );
    }
  }
  const { certPem, keyPem } = await generateSelfSigned();
  writeAtomically(keyPath, keyPem, 0o600);
  writeAtomically(certPath, certPem, 0o644);
  const fingerprint = checkPair(certPem, keyPem);
  logger.info({ dir, tlsFingerprint: fingerprint }, 'generated a self-signed TLS certificate');
  return { certPem, keyPem, fingerprint, source: 'generated' };
}

/** The certificate the relay will serve, or null for plain http/ws. */
export async function resolveTls(
  tls: TlsOptions | null,
  dataDir: string | null,
  logger: Logger,
): Promise<TlsMaterial | null> {
  if (tls === null) return null;
  if ('mode' in tls) {
    if (dataDir !== null) return loadOrCreateTls(dataDir, logger);
    // Nothing is kept in memory mode: a new certificate (and fingerprint) every run.
    const { certPem, keyPem } = await generateSelfSigned();
    return { certPem, keyPem, fingerprint: checkPair(certPem, keyPem), source: 'generated' };
  }
  try {
    const fingerprint = checkPair(tls.certPem, tls.keyPem);
    return { certPem: tls.certPem, keyPem: tls.keyPem, fingerprint, source: 'given' };
  } catch (error) {
    throw new RelayOptionsError('tls', error instanceof Error ? error.message : String(error));
  }
}
