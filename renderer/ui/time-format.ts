/** Dates and times as the message list shows them. Pure (the clock is a parameter). */

const timeFormats = new Map<string, Intl.DateTimeFormat>();

function format(locale: string | undefined, options: Intl.DateTimeFormatOptions) {
  const key = `${locale ?? ''}|${JSON.stringify(options)}`;
  let formatter = timeFormats.get(key);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat(locale, options);
    timeFormats.set(key, formatter);
  }
  return formatter;
}

/** "2:05 PM" / "14:05", in the user's locale. */
export function formatTime(ms: number, locale?: string): string {
  return format(locale, { hour: 'numeric', minute: '2-digit' }).format(ms);
}

/** "Saturday, November 22, 2025 at 2:05 PM", for tooltips. */
export function formatDateTime(ms: number, locale?: string): string {
  return format(locale, { dateStyle: 'full', timeStyle: 'short' }).format(ms);
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
  const full = format(locale, {
    weekday: 'long',
    year: 'numeric',
    month: 'long',
    day: 'numeric',
  }).format(at);
  const day = startOfDay(at);
  const today = startOfDay(now);
  const yesterday = startOfDay(today - 12 * 3_600_000);
  if (day === today) return { short: 'Today', name: `Today, ${full}` };
  if (day === yesterday) return { short: 'Yesterday', name: `Yesterday, ${full}` };
  const sameYear = new Date(at).getFullYear() === new Date(now).getFullYear();
  const short = sameYear
    ? format(locale, { weekday: 'long', month: 'long', day: 'numeric' }).format(at)
    : format(locale, { year: 'numeric', month: 'long', day: 'numeric' }).format(at);
  return { short, name: full };
}
