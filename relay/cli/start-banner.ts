/**
 * What a host sees in a terminal once the relay listens: where colleagues open it, the
 * certificate fingerprint to read out to them, and how to stop. Printed by the CLI when it
 * writes human-readable logs (relay/cli/log-format.ts); JSON logs carry the same in `relay listening`.
 */

export interface StartBannerInput {
  version: string;
  /** `https` with TLS, `http` with --plain or a cluster node without a certificate. */
  scheme: 'http' | 'https';
  /** The address it listens on (`0.0.0.0`, `::`, or one interface). */
  host: string;
  port: number;
  /** This computer's LAN IPv4 addresses (relay/discovery/lan-addresses.ts). */
  lanAddresses: readonly string[];
  /** SHA-256 of the served certificate, `AB:12:…`; null without TLS. */
  tlsFingerprint: string | null;
}

/** The URLs to open: localhost and every LAN address on a wildcard listener, else the one host. */
export function startUrls({ scheme, host, port, lanAddresses }: StartBannerInput): string[] {
  const at = (name: string): string => `${scheme}://${name}:${port}/`;
  if (host === '0.0.0.0' || host === '::') return [at('localhost'), ...lanAddresses.map(at)];
  return [at(host.includes(':') ? `[${host}]` : host)];
}

export function startBanner(input: StartBannerInput): string {
  const [first = '', ...others] = startUrls(input);
  const lines = [
    '',
    `  Parley relay ${input.version} is running.`,
    '',
    `  Open:  ${first}`,
    ...others.map((url) => `         ${url}`),
  ];
  if (input.tlsFingerprint === null) {
    lines.push('', '  Plain http:// and ws:// (no TLS).');
  } else {
    lines.push(
      '',
      '  Read this certificate fingerprint (SHA-256) out to colleagues; their browser or app must',
      '  show the same before they trust it:',
      '',
      `    ${input.tlsFingerprint}`,
    );
  }
  lines.push('', '  Stop: Ctrl+C (or SIGTERM).', '', '');
  return lines.join('\n');
}
