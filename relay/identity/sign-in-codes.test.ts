import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CODE_ALPHABET,
  codeKind,
  formatCode,
  linkCodeCreated,
  normalizeCode,
  recoveryCodeCreated,
  recoveryCodeStatus,
  sessionResponse,
  type SessionResponse,
} from '../protocol/sign-in-codes.js';
import { CodeHasher, newLinkCode, newRecoveryCode, randomCode } from './sign-in-codes.js';
import { api, removeDir, startTestRelay, type TestRelay } from '../testing/relay-harness.js';

describe('code format', () => {
  it('makes codes of the alphabet, 24 and 8 long, each symbol about equally often', () => {
    expect(newRecoveryCode()).toMatch(/^[0-9A-HJKMNP-TV-Z]{24}$/);
    expect(newLinkCode()).toMatch(/^[0-9A-HJKMNP-TV-Z]{8}$/);
    const counts = new Map<string, number>();
    for (const c of randomCode(32_000)) counts.set(c, (counts.get(c) ?? 0) + 1);
    expect([...counts.keys()].sort().join('')).toBe(CODE_ALPHABET);
    // 1,000 expected per symbol; ±25% is more than 7 standard deviations.
    for (const n of counts.values()) expect(Math.abs(n - 1_000)).toBeLessThan(250);
  });

  it('reads what a person types: case, spaces, dashes, O/I/L', () => {
    expect(normalizeCode(' abcd-efgh ijkl-mnop ')).toBe('ABCDEFGH1JK1MN0P');
    expect(codeKind(normalizeCode('abcd-ef9h'))).toBe('link');
    expect(codeKind(normalizeCode('0123-4567-89ab-cdef-ghjk-mnpq'))).toBe('recovery');
    expect(codeKind('ABCDEFG')).toBeNull();
    expect(codeKind('ABCDEFGU')).toBeNull();
    expect(codeKind('ABCD!FGH')).toBeNull();
    expect(formatCode('abcdefgh')).toBe('ABCD-EFGH');
  });

  it('compares hashes in full and never matches an absent one', () => {
    const a = 'q'.repeat(43);
    expect(CodeHasher.same(a, a)).toBe(true);
    expect(CodeHasher.same(a, `${'q'.repeat(42)}r`)).toBe(false);
    expect(CodeHasher.same(a, null)).toBe(false);
    expect(CodeHasher.same(a, 'short')).toBe(false);
  });
});

describe('signing in again with a code (HTTP, real relay)', () => {
  let relay: TestRelay;
  beforeAll(async () => {
    relay = await startTestRelay({ limits: { sessionAttemptsPerMinute: 1_000 } });
  });
  afterAll(async () => {
    await relay.close();
    removeDir(relay.dataDir);
  });

  async function session(
    body: Record<string, unknown>,
    token: string | null = null,
  ): Promise<{ status: number; body: unknown }> {
    return api(relay, token, 'POST', '/api/session', { device_unique_id: 'd', ...body });
  }

  async function signUp(name: string): Promise<SessionResponse> {
    const res = await session({ name });
    expect(res.status).toBe(201);
    return sessionResponse.parse(res.body);
  }

  const code = (body: unknown): string | undefined =>
    (body as { error?: { code?: string } }).error?.code;

  it('shows a recovery code at sign-up that signs in on a new device, once, and is replaced', async () => {
    const ana = await signUp('Ana');
    expect(ana.recovery_code).toMatch(/^([0-9A-HJKMNP-TV-Z]{4}-){5}[0-9A-HJKMNP-TV-Z]{4}$/);
    const first = ana.recovery_code ?? '';

    const without = await session({ name: 'Ana' });
    expect(without.status).toBe(409);
    expect(code(without.body)).toBe('name_taken');

    // Typed carelessly: lower case, spaces instead of dashes.
    const typed = first.toLowerCase().replace(/-/g, ' ');
    const back = await session({ name: 'ana', code: typed });
    expect(back.status).toBe(201);
    const backBody = sessionResponse.parse(back.body);
    expect(backBody.user).toEqual(ana.user);
    expect(backBody.recovery_code).toBeDefined();
    expect(backBody.recovery_code).not.toBe(first);

    const again = await session({ name: 'Ana', code: first });
    expect(again.status).toBe(401);
    expect(code(again.body)).toBe('bad_recovery_code');
    const withNew = await session({ name: 'Ana', code: backBody.recovery_code });
    expect(withNew.status).toBe(201);
  });

  it('adds a device with a token as before, showing no code', async () => {
    const ben = await signUp('Ben');
    const res = await session({ name: 'Ben' }, ben.token);
    expect(res.status).toBe(201);
    expect(sessionResponse.parse(res.body)).not.toHaveProperty('recovery_code');
  });

  it('regenerates the recovery code from a signed-in device; the old one stops working', async () => {
    const cy = await signUp('Cy');
    const status = recoveryCodeStatus.parse(
      (await api(relay, cy.token, 'GET', '/api/recovery-code')).body,
    );
    expect(status.created_at).not.toBeNull();
    const made = await api(relay, cy.token, 'POST', '/api/recovery-code');
    expect(made.status).toBe(201);
    const fresh = recoveryCodeCreated.parse(made.body);
    expect(fresh.recovery_code).not.toBe(cy.recovery_code);
    expect((await session({ name: 'Cy', code: cy.recovery_code })).status).toBe(401);
    expect((await session({ name: 'Cy', code: fresh.recovery_code })).status).toBe(201);
    expect((await api(relay, null, 'POST', '/api/recovery-code')).status).toBe(401);
  });

  it('links a device with a short code, once, for its own user only', async () => {
    const dee = await signUp('Dee');
    const eve = await signUp('Eve');
    const made = await api(relay, dee.token, 'POST', '/api/link-codes');
    expect(made.status).toBe(201);
    const link = linkCodeCreated.parse(made.body);
    expect(link.link_code).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
    const lifetime = Date.parse(link.expires_at) - Date.now();
    expect(lifetime).toBeGreaterThan(9 * 60_000);
    expect(lifetime).toBeLessThanOrEqual(10 * 60_000);

    const wrongName = await session({ name: 'Eve', code: link.link_code });
    expect(wrongName.status).toBe(401);
    expect(code(wrongName.body)).toBe('bad_recovery_code');

    const linked = await session({ name: 'Dee', code: link.link_code });
    expect(linked.status).toBe(201);
    const body = sessionResponse.parse(linked.body);
    expect(body.user).toEqual(dee.user);
    expect(body).not.toHaveProperty('recovery_code');
    const me = await api(relay, body.token, 'GET', '/api/me');
    expect(me.body).toEqual(dee.user);

    const reused = await session({ name: 'Dee', code: link.link_code });
    expect(reused.status).toBe(401);
    expect(code(reused.body)).toBe('bad_recovery_code');
    expect(eve.user.id).not.toBe(dee.user.id);
  });

  it('keeps at most linkCodesPerUser (3) link codes: a fourth drops the oldest', async () => {
    const fay = await signUp('Fay');
    const codes: string[] = [];
    for (let i = 0; i < 4; i += 1) {
      const made = await api(relay, fay.token, 'POST', '/api/link-codes');
      codes.push(linkCodeCreated.parse(made.body).link_code);
    }
    expect((await session({ name: 'Fay', code: codes[0] })).status).toBe(401);
    for (const kept of codes.slice(1))
      expect((await session({ name: 'Fay', code: kept })).status).toBe(201);
  });

  it('answers an unknown name with a code exactly like a wrong code, and creates nobody', async () => {
    const unknown = await session({ name: 'Nobody', code: 'ABCD-EFGH' });
    const gus = await signUp('Gus');
    const wrong = await session({ name: 'Gus', code: 'ABCD-EFGH' });
    expect(unknown).toEqual(wrong);
    expect(unknown.status).toBe(401);
    const users = await api<{ users: { name: string }[] }>(relay, gus.token, 'GET', '/api/users');
    expect(users.body.users.map((u) => u.name)).not.toContain('Nobody');
    const junk = await session({ name: 'Gus', code: 'not a code at all' });
    expect(junk).toEqual(wrong);
  });
});
