/**
 * Taking someone's name with codes: guessing recovery and device-link codes for a name from many
 * addresses, spraying many names, reusing used or expired link codes, using one user's code for
 * another name, racing one code twice, and looking for the plain codes in the database files.
 * Real relays on loopback; every request comes from a chosen 127.0.0.x address.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CodeGuard } from './code-guard.js';
import { DEFAULT_LIMITS } from '../core/options.js';
import {
  LINK_CODE_LENGTH,
  RECOVERY_CODE_LENGTH,
  linkCodeCreated,
  normalizeCode,
  sessionResponse,
} from '../protocol/sign-in-codes.js';
import { randomCode } from './sign-in-codes.js';
import { api, removeDir, startTestRelay, until, type TestRelay } from '../testing/relay-harness.js';
import { signInFrom as signInFromAddress, type SignInAnswer } from '../testing/sign-in-from.js';

/** POST /api/session from `localAddress`, as device `d` unless `body` names another. */
function signInFrom(relay: TestRelay, localAddress: string, body: object): Promise<SignInAnswer> {
  return signInFromAddress(relay, localAddress, { device_unique_id: 'd', ...body });
}

/** The n-th of many attacker addresses: 127.0.1.1, 127.0.1.2, … */
const address = (n: number): string => `127.0.${1 + Math.floor(n / 250)}.${1 + (n % 250)}`;

function guessCode(n: number): string {
  return randomCode(n % 2 === 0 ? RECOVERY_CODE_LENGTH : LINK_CODE_LENGTH);
}

describe('guessing codes for a name', () => {
  const FAILURES = 5;
  const LOCKOUT_MS = 1_500;
  let relay: TestRelay;

  beforeAll(async () => {
    relay = await startTestRelay({
      limits: {
        codeFailuresPerName: FAILURES,
        codeLockoutMs: LOCKOUT_MS,
        codeAttemptsPerMinute: 10_000,
      },
    });
  });
  afterAll(async () => {
    await relay.close();
    removeDir(relay.dataDir);
  });

  it('locks the name out after a few wrong codes from any number of addresses, the right code too, and only code sign-ins', async () => {
    const signUp = await signInFrom(relay, '127.0.0.2', { name: 'Victim' });
    const victim = sessionResponse.parse(signUp.body);
    const recovery = victim.recovery_code ?? '';
    await signInFrom(relay, '127.0.0.3', { name: 'Bystander' });

    // One guess per address, so the per-address limit never bites: only the name's count does.
    const answers: SignInAnswer[] = [];
    const ghost: SignInAnswer[] = [];
    for (let n = 0; n < 40; n += 1) {
      answers.push(await signInFrom(relay, address(n), { name: 'Victim', code: guessCode(n) }));
      ghost.push(await signInFrom(relay, address(n + 100), { name: 'Ghost', code: guessCode(n) }));
    }
    const before = answers.findIndex((a) => a.status === 429);
    console.log(
      `[codes] guesses for one name before lockout, from 40 addresses: ${before} (codeFailuresPerName ${FAILURES})`,
    );
    expect(before).toBe(FAILURES);
    expect(answers.slice(0, before).every((a) => a.code === 'bad_recovery_code')).toBe(true);
    expect(answers.slice(before).every((a) => a.code === 'rate_limited')).toBe(true);
    // A name nobody has answers exactly the same sequence: a lockout tells nothing.
    expect(ghost.map((a) => [a.status, a.code])).toEqual(answers.map((a) => [a.status, a.code]));

    // While locked: the right code is refused too; another name is not locked; the victim's
    // device keeps working.
    expect(await signInFrom(relay, '127.0.0.4', { name: 'Victim', code: recovery })).toMatchObject({
      status: 429,
      code: 'rate_limited',
    });
    expect(
      await signInFrom(relay, '127.0.0.5', { name: 'Bystander', code: guessCode(0) }),
    ).toMatchObject({ status: 401, code: 'bad_recovery_code' });
    expect((await api(relay, victim.token, 'GET', '/api/me')).status).toBe(200);

    // The lockout lifts (refused polls do not extend it); the owner's code then works.
    // Each poll from its own address, so the per-address sign-in limit never bites.
    const deadline = Date.now() + LOCKOUT_MS + 10_000;
    let polls = 0;
    const poll = (): Promise<SignInAnswer> =>
      signInFrom(relay, address(500 + polls++), { name: 'Victim', code: recovery });
    let lifted = await poll();
    while (lifted.status === 429) {
      expect(lifted.code).toBe('rate_limited');
      expect(Date.now(), 'the lockout lifts').toBeLessThan(deadline);
      await new Promise((resolve) => setTimeout(resolve, 100));
      lifted = await poll();
    }
    expect(lifted.status).toBe(201);
    expect(sessionResponse.parse(lifted.body).user).toEqual(victim.user);
  }, 30_000);

  it('prints what the default limits allow a determined guesser in a day', () => {
    // Simulated at the defaults: one guesser trying the moment each lockout ends, all day.
    const guard = new CodeGuard({
      failuresPerName: DEFAULT_LIMITS.codeFailuresPerName,
      lockoutMs: DEFAULT_LIMITS.codeLockoutMs,
      attemptsPerMinute: DEFAULT_LIMITS.codeAttemptsPerMinute,
    });
    const day = 24 * 3600 * 1000;
    let guesses = 0;
    for (let now = Date.now(), end = now + day; now < end;) {
      const verdict = guard.attempt('victim', now);
      if (verdict.ok) {
        guard.failed('victim', now);
        guesses += 1;
        now += 1_000;
      } else {
        now += verdict.retryAfterMs;
      }
    }
    const linkOdds = (guesses * DEFAULT_LIMITS.linkCodesPerUser) / 2 ** 40;
    console.log(
      `[codes] at the defaults one name takes at most ${guesses} wrong codes a day; ` +
        `chance that a day of guessing hits one of ${DEFAULT_LIMITS.linkCodesPerUser} live link codes: ${linkOdds.toExponential(1)}; ` +
        `a recovery code: ${(guesses / 2 ** 120).toExponential(1)}`,
    );
    expect(guesses).toBeLessThan(100);
  });
});

describe('spraying many names', () => {
  const BUDGET = 20;
  let relay: TestRelay;
  beforeAll(async () => {
    relay = await startTestRelay({
      limits: { codeAttemptsPerMinute: BUDGET, codeFailuresPerName: 1_000 },
    });
  });
  afterAll(async () => {
    await relay.close();
    removeDir(relay.dataDir);
  });

  it('gets only the relay-wide budget of code attempts, whatever the addresses and names', async () => {
    const answers: SignInAnswer[] = [];
    for (let n = 0; n < 60; n += 1) {
      answers.push(await signInFrom(relay, address(n), { name: `User${n}`, code: guessCode(n) }));
    }
    const tried = answers.filter((a) => a.code === 'bad_recovery_code').length;
    console.log(
      `[codes] 60 names from 60 addresses: ${tried} codes checked, ${60 - tried} refused (codeAttemptsPerMinute ${BUDGET})`,
    );
    // The bucket refills a third of an attempt a second while the loop runs.
    expect(tried).toBeGreaterThanOrEqual(BUDGET);
    expect(tried).toBeLessThanOrEqual(BUDGET + 5);
    expect(answers.slice(tried).every((a) => a.code === 'rate_limited')).toBe(true);
    // Signing up without a code is not part of the budget.
    expect((await signInFrom(relay, address(100), { name: 'Newcomer' })).status).toBe(201);
  });
});

describe('link codes: used, expired, another name, raced', () => {
  let relay: TestRelay;
  beforeAll(async () => {
    relay = await startTestRelay({ limits: { linkCodeTtlMs: 300 } });
  });
  afterAll(async () => {
    await relay.close();
    removeDir(relay.dataDir);
  });

  async function newLink(token: string): Promise<{ link_code: string; expires_at: string }> {
    const made = await api(relay, token, 'POST', '/api/link-codes');
    expect(made.status).toBe(201);
    return linkCodeCreated.parse(made.body);
  }

  it('refuses an expired code, a used code and a code for another name alike', async () => {
    const ana = sessionResponse.parse((await signInFrom(relay, '127.0.0.2', { name: 'Ana' })).body);
    await signInFrom(relay, '127.0.0.2', { name: 'Ben' });

    const expired = await newLink(ana.token);
    await until(() => Date.now() > Date.parse(expired.expires_at) + 50, 5_000, 'expiry');
    expect(
      await signInFrom(relay, '127.0.0.3', { name: 'Ana', code: expired.link_code }),
    ).toMatchObject({ status: 401, code: 'bad_recovery_code' });

    const link = await newLink(ana.token);
    const forBen = await signInFrom(relay, '127.0.0.3', { name: 'Ben', code: link.link_code });
    expect(forBen).toMatchObject({ status: 401, code: 'bad_recovery_code' });
    const used = await signInFrom(relay, '127.0.0.3', { name: 'Ana', code: link.link_code });
    if (used.status !== 201) {
      // Only if this machine took over 300 ms between the two requests; not the point here.
      expect(Date.now()).toBeGreaterThan(Date.parse(link.expires_at));
    }
    const reused = await signInFrom(relay, '127.0.0.3', { name: 'Ana', code: link.link_code });
    expect(reused).toMatchObject({ status: 401, code: 'bad_recovery_code' });
  });

  it('lets one of two racing sign-ins in with one code, never both', async () => {
    const cy = sessionResponse.parse((await signInFrom(relay, '127.0.0.4', { name: 'Cy' })).body);
    const recovery = cy.recovery_code ?? '';
    for (let round = 0; round < 5; round += 1) {
      const code = round === 0 ? recovery : (await newLink(cy.token)).link_code;
      const both = await Promise.all([
        signInFrom(relay, address(2 * round), { name: 'Cy', code }),
        signInFrom(relay, address(2 * round + 1), { name: 'Cy', code }),
      ]);
      const statuses = both.map((a) => a.status).sort();
      // A link code may expire (300 ms) before either lands on a slow machine: never two 201s.
      expect(statuses.filter((s) => s === 201).length).toBeLessThanOrEqual(1);
      if (round === 0) expect(statuses).toEqual([201, 401]);
    }
  });
});

describe('what the database keeps', () => {
  it('holds no recovery or link code in clear, in the database or its WAL', async () => {
    const relay = await startTestRelay();
    try {
      const ana = sessionResponse.parse(
        (await signInFrom(relay, '127.0.0.2', { name: 'Ana' })).body,
      );
      const made = await api(relay, ana.token, 'POST', '/api/link-codes');
      const link = linkCodeCreated.parse(made.body).link_code;
      const regenerated = await api<{ recovery_code: string }>(
        relay,
        ana.token,
        'POST',
        '/api/recovery-code',
      );
      const secrets = [ana.recovery_code ?? '', link, regenerated.body.recovery_code].flatMap(
        (code) => [code, normalizeCode(code)],
      );
      const files = readdirSync(relay.dataDir).filter((f) => f.startsWith('parley.db'));
      expect(files).toContain('parley.db');
      for (const file of files) {
        const bytes = readFileSync(join(relay.dataDir, file));
        for (const secret of secrets)
          expect(bytes.includes(secret), `${secret} in ${file}`).toBe(false);
      }
    } finally {
      await relay.close();
      removeDir(relay.dataDir);
    }
  });
});
