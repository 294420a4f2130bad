/**
 * The client trusts the wire no more than the relay does: every payload the relay pushes or
 * replies is checked against its schema (relay/protocol/wire-schemas.ts). One that does not match
 * is logged and dropped: never applied, never thrown into the socket's callbacks.
 */
import type { ZodType } from 'zod';

/** The payload as its schema's type, or null (logged) when it does not match. */
export function fromWire<T>(schema: ZodType<T>, payload: unknown, what: string): T | null {
  const parsed = schema.safeParse(payload);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue === undefined ? '' : ` at ${issue.path.map(String).join('.') || 'payload'}`;
  console.warn(`parley: dropped an invalid ${what}${where}: ${issue?.message ?? 'invalid'}`);
  return null;
}

/** A channel callback that hands on only payloads that match the schema. */
export function validated<T>(
  schema: ZodType<T>,
  what: string,
  handle: (value: T) => void,
): (payload: unknown) => void {
  return (payload) => {
    const value = fromWire(schema, payload, what);
    if (value !== null) handle(value);
  };
}
