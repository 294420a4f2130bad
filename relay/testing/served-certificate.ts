/**
 * The SHA-256 fingerprint (`AB:12:…`) of the certificate a TLS server presents, read by a plain
 * handshake that trusts nothing: tests compare it with what the relay, mDNS, invites and the UI
 * claim.
 */
import { X509Certificate } from 'node:crypto';
import { connect } from 'node:tls';

export function servedFingerprint(port: number, host = '127.0.0.1'): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, rejectUnauthorized: false }, () => {
      const raw = socket.getPeerCertificate(false).raw;
      socket.end();
      resolve(new X509Certificate(raw).fingerprint256);
    });
    socket.once('error', reject);
  });
}
