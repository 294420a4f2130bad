/**
 * Copying to the clipboard from a click ("Copy invite link"). The async Clipboard API needs a
 * secure context and, in the desktop app, the `clipboard-sanitized-write` permission (granted by
 * electron/main/main.ts; reading is never allowed). A refusal is a value: the caller tells the
 * user and selects the text so Ctrl/Cmd+C works.
 */
export async function copyText(text: string): Promise<boolean> {
  const clipboard = typeof navigator === 'undefined' ? undefined : navigator.clipboard;
  if (clipboard === undefined) return false;
  try {
    await clipboard.writeText(text);
    return true;
  } catch (error) {
    console.warn('parley: copying to the clipboard was refused', error);
    return false;
  }
}
