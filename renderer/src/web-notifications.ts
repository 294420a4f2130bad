/**
 * The Web Notification API as the client's `notify` callback. The client decides when a message
 * deserves a notification (not one's own, not in the chat being read); this shows it, and a
 * click brings the window forward and opens that chat.
 */
import type { NotificationRequest } from '../net/parley-client.js';
import type { NotificationControl } from '../ui/parley-context.js';

const BODY_CHARS = 180;

export interface WebNotifications {
  notify(request: NotificationRequest): void;
  control: NotificationControl;
}

function supported(): boolean {
  return typeof globalThis.Notification === 'function';
}

export function createWebNotifications(options: {
  onOpen: (chatId: string) => void;
}): WebNotifications {
  const control: NotificationControl = {
    permission: () => (supported() ? Notification.permission : 'unsupported'),
    request: async () => {
      if (!supported()) return 'unsupported';
      if (Notification.permission !== 'default') return Notification.permission;
      try {
        return await Notification.requestPermission();
      } catch (error) {
        // Old engines only have the callback form; treat as not granted.
        console.warn('parley: notification permission request failed', error);
        return Notification.permission;
      }
    },
  };

  function notify(request: NotificationRequest): void {
    if (!supported() || Notification.permission !== 'granted') return;
    const body =
      request.body.length > BODY_CHARS ? `${request.body.slice(0, BODY_CHARS - 1)}…` : request.body;
    try {
      const notification = new Notification(request.title, {
        body,
        // One notification per chat at a time: a burst of messages replaces, not stacks.
        tag: `parley:${request.chatId}`,
        icon: './favicon.svg',
      });
      notification.onclick = () => {
        window.focus();
        options.onOpen(request.chatId);
        notification.close();
      };
    } catch (error) {
      // Some platforms (Android Chrome) only allow notifications from a service worker.
      console.warn('parley: could not show a notification', error);
    }
  }

  return { notify, control };
}
