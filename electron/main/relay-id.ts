/** The stable id of this computer's relay: made once, kept in its data folder, sent in TXT. */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ID = /^[0-9a-f]{32}$/;

export function loadOrCreateRelayId(dataDir: string): string {
  const path = join(dataDir, 'relay-id');
  try {
    const stored = readFileSync(path, 'utf8').trim();
    if (ID.test(stored)) return stored;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const id = randomBytes(16).toString('hex');
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(path, `${id}\n`);
  return id;
}
