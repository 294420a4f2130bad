import { randomBytes, randomUUID } from 'node:crypto';

/** Opaque, unguessable ids (24 hex characters, like the ids in seed 002). */
export function newId(): string {
  return randomBytes(12).toString('hex');
}

export function newMessageId(): string {
  return randomUUID();
}
