/**
 * The renderer's entry, for the browser and the desktop window alike: one store, one client
 * (with localStorage, or the desktop offline cache when the desktop bridge is present), Web
 * Notifications, window focus wired to read markers, the remembered session resumed, then React.
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createDesktopStorage, getDesktopBridge, watchHosting } from '../net/desktop-bridge.js';
import { persistHistory } from '../net/history-cache.js';
import { followInvites } from '../net/invite-follower.js';
import { ParleyClient } from '../net/parley-client.js';
import { browserStorage, pageSessionStorage } from '../net/storage.js';
import { totalUnread } from '../state/selectors.js';
import { createParleyStore } from '../state/store.js';
import { App } from '../ui/App.js';
import { warmTimeFormats } from '../ui/time-format.js';
import { ParleyProvider, type ParleyServices } from '../ui/parley-context.js';
import { createWebNotifications } from './web-notifications.js';
import '../ui/styles/app.css';

const desktop = getDesktopBridge();
const store = createParleyStore();
const storage =
  desktop === null
    ? browserStorage()
    : await createDesktopStorage(desktop.offlineCache, (message) =>
        console.error(`parley: the offline cache refused a write: ${message}`),
      );
const notifications = createWebNotifications({
  onOpen: (chatId) => client.openChat(chatId),
});
const client = new ParleyClient({
  store,
  storage,
  // The desktop app opens with cached history at once, even while the relay is unreachable.
  ...(desktop === null
    ? {}
    : { history: { load: (scope: string) => desktop.offlineCache.loadSnapshot(scope) } }),
  notify: (request) => {
    notifications.notify(request);
    if (desktop !== null && !store.getState().windowFocused) desktop.notifications.flashFrame();
  },
});

// The desktop shell shows the unread total on the tray, dock or taskbar, and keeps the cache;
// the UI follows whether this computer hosts a room ("Invite people").
if (desktop !== null) {
  watchHosting(
    desktop.hosting,
    (status) => store.getState().actions.setHosting(status),
    (error) => console.warn('parley: reading the hosting status failed', error),
  );
  persistHistory(store, desktop.offlineCache, (state) =>
    state.me === null || state.serverUrl === null ? null : `${state.serverUrl}|${state.me.id}`,
  );
  let shown = -1;
  const showBadge = (count: number): void => {
    if (count === shown) return;
    shown = count;
    desktop.notifications.setBadge(count);
  };
  showBadge(totalUnread(store.getState()));
  store.subscribe((state) => showBadge(totalUnread(state)));
}

// Read markers and notifications depend on whether the user can see the window.
function syncFocus(): void {
  const focused = document.visibilityState === 'visible' && document.hasFocus();
  if (store.getState().windowFocused !== focused) client.setWindowFocused(focused);
}
window.addEventListener('focus', syncFocus);
window.addEventListener('blur', syncFocus);
document.addEventListener('visibilitychange', syncFocus);
syncFocus();

// Close sockets cleanly when the page goes away (presence updates at once for others); a page
// restored from the back/forward cache reconnects. `pageshow` also fires on the first load, which
// resumes below: resuming there too opened a second socket (e2e/resume-once.spec.ts).
window.addEventListener('pagehide', () => client.stop());
window.addEventListener('pageshow', (event) => {
  if (event.persisted) void client.resume();
});
// The OS says the network is back: reconnect now instead of waiting out the backoff.
window.addEventListener('online', () => client.reconnectNow());

void client.resume();

// Invites (parley:// links) open the app; follow them once the saved session is being resumed,
// so they are judged against it.
const invites =
  desktop === null
    ? null
    : followInvites({
        app: desktop.app,
        store,
        client,
        pageStorage: pageSessionStorage(),
        onError: (message, error) => console.warn(`parley: ${message}`, error ?? ''),
      });

const services: ParleyServices = {
  store,
  client,
  storage,
  desktop,
  invites,
  notifications: notifications.control,
};

// The first use of each date format costs ICU set-up (tens of ms in all): pay it while the app is
// idle rather than when the first chat opens.
requestIdleCallback(() => warmTimeFormats(), { timeout: 2_000 });

const root = document.getElementById('root');
if (root === null) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <ParleyProvider services={services}>
      <App />
    </ParleyProvider>
  </StrictMode>,
);
