/**
 * The stable id of a hosted relay: made once, kept in its data folder (`<dataDir>/relay-id`), and
 * sent in the mDNS TXT record (mdns-advert.ts) so browsers know a room again after it moves.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ID = /^[0-9a-f]{32}$/;

/** A new id: 32 lowercase hex digits. */
export function newRelayId(): string {
  return randomBytes(16).toString('hex');
}

export function loadOrCreateRelayId(dataDir: string): string {
  const path = join(dataDir, 'relay-id');
  try {
    const stored = readFileSync(path, 'utf8').trim();
    if (ID.test(stored)) return stored;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const id = newRelayId();
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(path, `${id}\n`);
  return id;
}
