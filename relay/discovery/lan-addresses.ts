/**
 * This computer's IPv4 LAN addresses, for the URLs a host shows to colleagues (the CLI's start
 * banner, the desktop app's hosting panel) and the names a generated certificate covers.
 */
import { networkInterfaces } from 'node:os';

/** Every non-internal IPv4 address of every interface, in the order the OS lists them. */
export function lanIPv4Addresses(): string[] {
  const out: string[] = [];
  for (const entries of Object.values(networkInterfaces())) {
    for (const entry of entries ?? []) {
      if (entry.family === 'IPv4' && !entry.internal) out.push(entry.address);
    }
  }
  return out;
}
