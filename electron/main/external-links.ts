/** Which URLs may leave the app, and where the app's own pages may navigate. */

/**
 * scheme://host of a URL. Node's `URL.origin` is "null" for schemes it does not know (such as
 * the app's own `app://`), while Chromium gives registered standard schemes a real origin.
 */
export function originOf(url: string): string | null {
  try {
    const parsed = new URL(url);
    if (parsed.host === '') return null;
    return `${parsed.protocol}//${parsed.host}`;
  } catch {
    return null;
  }
}

/** Only http(s) links go to the default browser; file:, javascript:, custom schemes never do. */
export function isSafeExternalUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return (parsed.protocol === 'http:' || parsed.protocol === 'https:') && parsed.host !== '';
  } catch {
    return false;
  }
}

/**
 * The window may only navigate within the app's own origin; anything else (a link the page
 * failed to intercept, a drag-and-drop) is cancelled and, when it is http(s), opened outside.
 */
export function navigationDecision(
  url: string,
  appOrigin: string,
): 'allow' | 'open-external' | 'deny' {
  if (originOf(url) === appOrigin) return 'allow';
  return isSafeExternalUrl(url) ? 'open-external' : 'deny';
}
