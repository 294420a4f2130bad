/**
 * How long a vanishing room keeps its messages, as people give it (a number and a unit) and as
 * the relay takes it (whole seconds within EPHEMERAL_TTL_MIN_S..EPHEMERAL_TTL_MAX_S, the same
 * constants its validator uses). Pure; unit-tested.
 */
import { EPHEMERAL_TTL_MAX_S, EPHEMERAL_TTL_MIN_S } from '../../relay/protocol/events.js';

export type VanishUnit = 'minutes' | 'hours' | 'days';

/** Seconds per unit, largest first (the order `splitDuration` tries them in). */
export const VANISH_UNITS: readonly { unit: VanishUnit; seconds: number; one: string }[] = [
  { unit: 'days', seconds: 86_400, one: 'day' },
  { unit: 'hours', seconds: 3_600, one: 'hour' },
  { unit: 'minutes', seconds: 60, one: 'minute' },
];

/** The choices offered as one click. */
export const VANISH_PRESETS: readonly { amount: number; unit: VanishUnit }[] = [
  { amount: 5, unit: 'minutes' },
  { amount: 1, unit: 'hours' },
  { amount: 1, unit: 'days' },
  { amount: 7, unit: 'days' },
  { amount: 30, unit: 'days' },
];

/** What the form starts with. */
export const DEFAULT_VANISH = { amount: 1, unit: 'days' } as const satisfies {
  amount: number;
  unit: VanishUnit;
};

/** Seconds in one of `unit`. */
export function secondsPer(unit: VanishUnit): number {
  return VANISH_UNITS.find((u) => u.unit === unit)?.seconds ?? 1;
}

/** "1 day", "7 days", "90 seconds", "1 hour": the largest unit that divides it exactly. */
export function formatDuration(seconds: number): string {
  for (const { seconds: per, one, unit } of VANISH_UNITS) {
    if (seconds >= per && seconds % per === 0) {
      const n = seconds / per;
      return `${n.toLocaleString('en')} ${n === 1 ? one : unit}`;
    }
  }
  return `${seconds.toLocaleString('en')} ${seconds === 1 ? 'second' : 'seconds'}`;
}

/** The shortest and longest time the form accepts, in words ("1 minute", "30 days"). */
export function vanishRange(): { min: string; max: string } {
  return {
    min: formatDuration(Math.max(EPHEMERAL_TTL_MIN_S, secondsPer('minutes'))),
    max: formatDuration(EPHEMERAL_TTL_MAX_S),
  };
}

export type VanishTime = { ok: true; seconds: number } | { ok: false; message: string };

/**
 * The form's number and unit as seconds for the relay, or why they cannot be: not a whole
 * number, or outside what the relay accepts.
 */
export function vanishSeconds(amount: string, unit: VanishUnit): VanishTime {
  const { min, max } = vanishRange();
  const range = `Messages can vanish after ${min} at the shortest and ${max} at the longest.`;
  const text = amount.trim();
  if (!/^\d+$/.test(text)) return { ok: false, message: `Enter a whole number. ${range}` };
  const seconds = Number(text) * secondsPer(unit);
  if (seconds < EPHEMERAL_TTL_MIN_S || seconds < secondsPer('minutes'))
    return { ok: false, message: `That is too short. ${range}` };
  if (seconds > EPHEMERAL_TTL_MAX_S) return { ok: false, message: `That is too long. ${range}` };
  return { ok: true, seconds };
}
