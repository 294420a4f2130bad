/** Dates and times as the message list shows them. Pure (the clock is a parameter). */

/** Every format the message list uses, by name: each Intl.DateTimeFormat is built once per locale. */
const FORMATS = {
  time: { hour: 'numeric', minute: '2-digit' },
  dateTime: { dateStyle: 'full', timeStyle: 'short' },
  fullDay: { weekday: 'long', year: 'numeric', month: 'long', day: 'numeric' },
  dayThisYear: { weekday: 'long', month: 'long', day: 'numeric' },
  dayOtherYear: { year: 'numeric', month: 'long', day: 'numeric' },
} as const satisfies Record<string, Intl.DateTimeFormatOptions>;

type FormatName = keyof typeof FORMATS;

const formatters = new Map<string, Map<FormatName, Intl.DateTimeFormat>>();

function format(locale: string | undefined, name: FormatName): Intl.DateTimeFormat {
  const key = locale ?? '';
  let byName = formatters.get(key);
  if (byName === undefined) {
    byName = new Map();
    formatters.set(key, byName);
  }
  let formatter = byName.get(name);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat(locale, FORMATS[name]);
    byName.set(name, formatter);
  }
  return formatter;
}

/**
 * Builds every formatter ahead of need. The first `new Intl.DateTimeFormat` of a set of options
 * loads ICU data and generates a pattern (about 10 ms each in Chromium); done while the app is
 * idle, so opening the first chat does not pay for it.
 */
export function warmTimeFormats(locale?: string): void {
  for (const name of Object.keys(FORMATS) as FormatName[]) format(locale, name).format(0);
}

/** "2:05 PM" / "14:05", in the user's locale. */
export function formatTime(ms: number, locale?: string): string {
  return format(locale, 'time').format(ms);
}

/** "Saturday, November 22, 2025 at 2:05 PM", for tooltips. */
export function formatDateTime(ms: number, locale?: string): string {
  return format(locale, 'dateTime').format(ms);
}

function startOfDay(ms: number): number {
  const d = new Date(ms);
  return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
}

/**
 * The label of a day separator: `short` is what is shown ("Today", "Yesterday",
 * "Monday, November 17", or "November 17, 2024" in another year); `name` is the accessible name,
 * always with the full date ("Today, Saturday, November 22, 2025").
 */
export function dayLabel(
  at: number,
  now: number,
  locale?: string,
): { short: string; name: string } {
  const full = format(locale, 'fullDay').format(at);
  const day = startOfDay(at);
  const today = startOfDay(now);
  const yesterday = startOfDay(today - 12 * 3_600_000);
  if (day === today) return { short: 'Today', name: `Today, ${full}` };
  if (day === yesterday) return { short: 'Yesterday', name: `Yesterday, ${full}` };
  const sameYear = new Date(at).getFullYear() === new Date(now).getFullYear();
  const short = sameYear
    ? format(locale, 'dayThisYear').format(at)
    : format(locale, 'dayOtherYear').format(at);
  return { short, name: full };
}
