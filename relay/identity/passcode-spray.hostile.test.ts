/**
 * Guessing a 4-digit passcode from many source addresses (issue 15, item 4), against the real
 * command-line relay (a child process) at its default passcode budgets. The guesser holds 120
 * loopback addresses in 30 /24 networks (127.N.M.1, all on `lo`), so the per-address sign-in
 * limit alone would give it 1,200 checks a minute; the relay-wide budget of wrong passcodes must
 * stop it after `passcodeFailuresPerHour`, whatever the addresses, lock passcode sign-ins out,
 * let a colleague in with the right passcode once the lockout ends, and lock out twice as long
 * the next time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../core/options.js';
import {
  startRelayProcessOnTempData,
  stopRelayProcess,
  type RelayProcess,
  type TempDataRelayProcess,
} from '../testing/relay-process.js';
import { signInFrom, type SignInAnswer } from '../testing/sign-in-from.js';

/** The first lockout (the default is a minute; shorter here so the test can wait one out). */
const LOCKOUT_MS = 30_000;
/** The guesser gives up a spray after this many refusals in a row (it is locked out). */
const GIVE_UP_AFTER = 150;
/** Guesses in flight at once. */
const PARALLEL = 24;
/** The guesser's addresses: 4 in each of 30 /24 networks. */
const GUESSER_ADDRESSES = Array.from(
  { length: 120 },
  (_, index) => `127.${10 + Math.floor(index / 4)}.${index % 4}.1`,
);
/** A colleague on a network the guesser never used. */
const COLLEAGUE = '127.200.0.1';

/** Every 4-digit code in a fixed shuffled order (a seeded LCG: the same order every run). */
function guessOrder(): string[] {
  const codes = Array.from({ length: 10_000 }, (_, n) => String(n).padStart(4, '0'));
  let state = 20_261_207;
  for (let index = codes.length - 1; index > 0; index -= 1) {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    const other = state % (index + 1);
    [codes[index], codes[other]] = [codes[other] ?? '', codes[index] ?? ''];
  }
  return codes;
}

const ORDER = guessOrder();
/**
 * The passcode is the guesser's 300th guess: per-address limits alone (120 addresses × 10 a
 * minute) let it through in seconds; the default relay-wide budget (20) never gets near it.
 */
const PASSCODE = ORDER[299] ?? '';

/** The answer's Retry-After in seconds, null without one. */
function retryAfterS(answer: SignInAnswer): number | null {
  return answer.retryAfter === undefined ? null : Number(answer.retryAfter);
}

interface Tally {
  tried: number;
  /** Checked and wrong: 401 bad_passcode. */
  checked: number;
  /** Refused unchecked: 429. */
  refused: number;
  /** The passcode was accepted (a new user, or a name that exists: either way it was right). */
  found: string[];
  /** Longest Retry-After seen, in seconds. */
  longestWaitS: number;
  ms: number;
}

/**
 * Tries `guesses` from the guesser's addresses in turn, `PARALLEL` at a time, until one is
 * accepted or `GIVE_UP_AFTER` are refused in a row.
 */
async function spray(relay: RelayProcess, guesses: readonly string[]): Promise<Tally> {
  const tally: Tally = { tried: 0, checked: 0, refused: 0, found: [], longestWaitS: 0, ms: 0 };
  const started = Date.now();
  let next = 0;
  let refusedInARow = 0;
  async function worker(): Promise<void> {
    while (next < guesses.length && tally.found.length === 0 && refusedInARow < GIVE_UP_AFTER) {
      const index = next;
      next += 1;
      const passcode = guesses[index] ?? '';
      const from = GUESSER_ADDRESSES[index % GUESSER_ADDRESSES.length] ?? '127.0.0.2';
      const answer = await signInFrom(
        relay,
        from,
        { name: `Guesser ${index}`, device_unique_id: 'spray', passcode },
        { freshConnection: true },
      );
      tally.tried += 1;
      refusedInARow = answer.status === 429 ? refusedInARow + 1 : 0;
      if (answer.status === 401 && answer.code === 'bad_passcode') tally.checked += 1;
      else if (answer.status === 429) {
        tally.refused += 1;
        tally.longestWaitS = Math.max(tally.longestWaitS, retryAfterS(answer) ?? 0);
      } else tally.found.push(`${passcode} (${answer.status})`);
    }
  }
  await Promise.all(Array.from({ length: PARALLEL }, () => worker()));
  tally.ms = Date.now() - started;
  return tally;
}

describe('passcode guessing from many addresses', () => {
  let relay: TempDataRelayProcess;

  beforeAll(async () => {
    relay = await startRelayProcessOnTempData('spray', [
      '--passcode',
      PASSCODE,
      '--limit',
      `sessionLockoutMs=${LOCKOUT_MS}`,
    ]);
  });
  afterAll(() => stopRelayProcess(relay));

  it('checks at most the relay-wide budget of wrong passcodes, then lets a colleague in after the lockout', async () => {
    const budget = DEFAULT_LIMITS.passcodeFailuresPerHour;
    const first = await spray(relay, ORDER.slice(0, 600));
    console.log(
      `spray 1: ${first.tried} guesses from ${GUESSER_ADDRESSES.length} addresses in 30 /24s in ` +
        `${first.ms} ms: ${first.checked} checked, ${first.refused} refused (429, up to ` +
        `${first.longestWaitS} s), found: ${first.found.join(', ') || 'nothing'}` +
        ` (passcode at guess 300; budget ${budget})`,
    );
    expect(first.found).toEqual([]);
    expect(first.checked).toBeGreaterThan(0);
    expect(first.checked).toBeLessThanOrEqual(budget);
    expect(first.refused).toBe(first.tried - first.checked);

    // A colleague on another network, right passcode: refused while the relay is locked out
    // (nothing is checked then), let in once the lockout is over.
    const colleague = (): Promise<SignInAnswer> =>
      signInFrom(
        relay,
        COLLEAGUE,
        { name: 'Colleague', device_unique_id: 'laptop', passcode: PASSCODE },
        { freshConnection: true },
      );
    const during = await colleague();
    const waitS = retryAfterS(during);
    expect(during.status).toBe(429);
    expect(waitS).toBeGreaterThan(0);
    expect(waitS).toBeLessThanOrEqual(LOCKOUT_MS / 1000);
    // Waiting out a lockout is waiting for time itself: the relay says how long.
    await new Promise((resolve) => setTimeout(resolve, (waitS ?? 0) * 1000 + 200));
    const after = await colleague();
    console.log(
      `colleague: ${during.status} during the lockout (Retry-After ${waitS} s), ` +
        `${after.status} after it`,
    );
    expect(after.status).toBe(201);

    // The guesser goes on: a fresh budget, then a lockout twice as long.
    const second = await spray(relay, ORDER.slice(600, 900));
    console.log(
      `spray 2: ${second.tried} guesses: ${second.checked} checked, ${second.refused} refused ` +
        `(Retry-After up to ${second.longestWaitS} s; the first lockout was ${LOCKOUT_MS / 1000} s)`,
    );
    expect(second.found).toEqual([]);
    expect(second.checked).toBeLessThanOrEqual(budget);
    expect(second.longestWaitS).toBeGreaterThan(LOCKOUT_MS / 1000);
    expect(second.longestWaitS).toBeLessThanOrEqual((2 * LOCKOUT_MS) / 1000);
    console.log(
      `in all: ${first.tried + second.tried} guesses tried, ${first.checked + second.checked} checked`,
    );
  }, 120_000);
});
