/** This computer's IPv4 LAN addresses, for the URLs a host shows to colleagues. */
import { networkInterfaces } from 'node:os';

export function lanIPv4Addresses(): string[] {
  const out: string[] = [];
  for (const entries of Object.values(networkInterfaces())) {
    for (const entry of entries ?? []) {
      if (entry.family === 'IPv4' && !entry.internal) out.push(entry.address);
    }
  }
  return out;
}
