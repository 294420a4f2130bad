import type { ZodType } from 'zod';
import { failure, type Failure } from './errors.js';

/** Runs a schema; a mismatch becomes an `invalid_payload` failure naming the first bad field. */
export function validate<T>(schema: ZodType<T>, value: unknown): { ok: true; data: T } | Failure {
  const parsed = schema.safeParse(value);
  if (parsed.success) return { ok: true, data: parsed.data };
  const issue = parsed.error.issues[0];
  const where = issue === undefined ? 'payload' : issue.path.map(String).join('.') || 'payload';
  return failure('invalid_payload', `${where}: ${issue?.message ?? 'invalid'}`);
}
