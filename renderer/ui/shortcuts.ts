/** The global keyboard shortcuts, as shown to the reader and as aria-keyshortcuts names them. */
const IS_MAC = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform);

export const QUICK_SWITCHER_KEYS = {
  label: IS_MAC ? '⌘K' : 'Ctrl K',
  aria: IS_MAC ? 'Meta+K' : 'Control+K',
};

export const SEARCH_KEYS = {
  label: IS_MAC ? '⇧⌘F' : 'Ctrl Shift F',
  aria: IS_MAC ? 'Meta+Shift+F' : 'Control+Shift+F',
};
