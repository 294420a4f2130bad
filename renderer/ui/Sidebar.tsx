/**
 * Rooms and DMs with unread counts and presence, the actions that create or find chats, and who
 * is signed in. Each chat entry is a button whose accessible name starts with the chat title.
 */
import { memo, useState } from 'react';
import { chatTitle, onlineUserIds, sortedChats } from '../state/selectors.js';
import type { ChatState } from '../state/types.js';
import { Avatar, PresenceDot } from './Avatar.js';
import { dmPeer } from './chat-peer.js';
import {
  BellIcon,
  BroadcastIcon,
  CloseIcon,
  CompassIcon,
  ComposeIcon,
  HashIcon,
  KeyIcon,
  LockIcon,
  PlusIcon,
  SearchIcon,
  ShieldIcon,
  SignOutIcon,
  TimerIcon,
} from './Icons.js';
import {
  useActions,
  useClient,
  useParley,
  useParleyShallow,
  useServices,
} from './parley-context.js';
import { IconButton } from './IconButton.js';
import { QUICK_SWITCHER_KEYS } from './shortcuts.js';
import { SIDEBAR_ID, useSidebarDrawer } from './SidebarDrawer.js';

export function Sidebar() {
  const actions = useActions();
  const { desktop } = useServices();
  const chats = useParleyShallow(sortedChats);
  const online = useParleyShallow(onlineUserIds);
  const serverUrl = useParley((s) => s.serverUrl);
  const myId = useParley((s) => s.me?.id ?? null);
  // Presence is only known while connected; offline, everyone shows as offline.
  const connected = useParley((s) => s.status === 'online');
  const rooms = chats.filter((c) => c.kind === 'room');
  const dms = chats.filter((c) => c.kind === 'dm');
  const host = serverUrl === null ? 'Parley' : serverUrl.replace(/^https?:\/\//, '');
  const drawer = useSidebarDrawer();
  // On narrow windows an open sidebar is a modal drawer over the messages (SidebarDrawer.tsx).
  const asDrawer = drawer.narrow && drawer.open;

  return (
    <aside
      id={SIDEBAR_ID}
      className="sidebar"
      role={asDrawer ? 'dialog' : undefined}
      aria-modal={asDrawer ? true : undefined}
      aria-label={asDrawer ? 'Sidebar' : undefined}
    >
      <header className="sidebar-head">
        <div className="workspace-name" title={serverUrl ?? undefined}>
          <span className="workspace-title">Parley</span>
          <span className="workspace-host">{host}</span>
        </div>
        {desktop === null ? null : (
          <IconButton
            label="About this server"
            title="About this server: address and certificate"
            onClick={() => actions.openDialog('about-server')}
          >
            <ShieldIcon />
          </IconButton>
        )}
        <IconButton label="New message" onClick={() => actions.openDialog('new-dm')}>
          <ComposeIcon />
        </IconButton>
        {drawer.narrow ? (
          <IconButton label="Close sidebar" onClick={drawer.hide}>
            <CloseIcon />
          </IconButton>
        ) : null}
      </header>

      <button
        type="button"
        className="switcher-trigger"
        aria-label="Quick switcher"
        aria-keyshortcuts={QUICK_SWITCHER_KEYS.aria}
        onClick={() => actions.openDialog('quick-switcher')}
      >
        <SearchIcon />
        <span className="switcher-text">Jump to…</span>
        <kbd>{QUICK_SWITCHER_KEYS.label}</kbd>
      </button>

      <HostingCard />

      <nav className="chat-nav" aria-label="Chats">
        <section className="nav-section">
          <div className="nav-section-head">
            <h2 className="nav-section-title">Rooms</h2>
            <div className="nav-section-actions">
              <IconButton
                label="Browse rooms"
                small
                onClick={() => actions.openDialog('browse-rooms')}
              >
                <CompassIcon />
              </IconButton>
              <IconButton label="New room" small onClick={() => actions.openDialog('new-room')}>
                <PlusIcon />
              </IconButton>
            </div>
          </div>
          <ul className="chat-list">
            {rooms.map((chat) => (
              <ChatEntry key={chat.id} chat={chat} peerId={null} peerOnline={false} />
            ))}
          </ul>
        </section>

        <section className="nav-section">
          <div className="nav-section-head">
            <h2 className="nav-section-title">Direct messages</h2>
          </div>
          <ul className="chat-list">
            {dms.map((chat) => {
              const peerId = dmPeer(chat, myId);
              return (
                <ChatEntry
                  key={chat.id}
                  chat={chat}
                  peerId={peerId}
                  peerOnline={connected && online.has(peerId)}
                />
              );
            })}
          </ul>
          {dms.length === 0 ? (
            <p className="nav-empty">
              <button
                type="button"
                className="link-button"
                onClick={() => actions.openDialog('new-dm')}
              >
                Start a conversation
              </button>
            </p>
          ) : null}
        </section>
      </nav>

      <NotificationPrompt />
      <SidebarFooter />
    </aside>
  );
}

const ChatEntry = memo(function ChatEntry({
  chat,
  peerId,
  peerOnline,
}: {
  chat: ChatState;
  peerId: string | null;
  peerOnline: boolean;
}) {
  const client = useClient();
  const drawer = useSidebarDrawer();
  const title = useParley((s) => chatTitle(s, chat));
  const active = useParley((s) => s.activeChatId === chat.id);
  const unread = chat.unread_count;

  return (
    <li>
      <button
        type="button"
        className={`chat-entry${active ? ' is-active' : ''}${unread > 0 ? ' has-unread' : ''}`}
        aria-current={active ? 'page' : undefined}
        onClick={() => {
          client.openChat(chat.id);
          drawer.hide();
        }}
      >
        <span className="chat-entry-title">{title}</span>
        {peerId !== null ? (
          <span className="chat-entry-lead">
            <Avatar userId={peerId} name={title} size="sm" />
            <PresenceDot online={peerOnline} labelled />
          </span>
        ) : (
          <span className="chat-entry-lead" aria-hidden="true">
            {chat.visibility === 'private' ? <LockIcon /> : <HashIcon />}
          </span>
        )}
        {chat.ephemeral_ttl_s !== null ? (
          <span className="chat-entry-flag" title="Messages vanish" aria-hidden="true">
            <TimerIcon />
          </span>
        ) : null}
        {unread > 0 ? (
          <span className="badge" role="img" aria-label={`${unread} unread`}>
            {unread > 999 ? '999+' : unread}
          </span>
        ) : null}
      </button>
    </li>
  );
});

/** Desktop only, while this computer hosts a room: says so and opens "Invite people". */
function HostingCard() {
  const actions = useActions();
  const state = useParley((s) => s.hosting?.state ?? 'stopped');
  if (state !== 'running' && state !== 'starting' && state !== 'stopping') return null;
  return (
    <div className={`hosting-card is-${state}`} title="This computer hosts a room">
      <BroadcastIcon />
      <span className="hosting-card-text">
        {state === 'running' ? 'Hosting' : state === 'starting' ? 'Starting…' : 'Stopping…'}
      </span>
      <button
        type="button"
        className="link-button"
        onClick={() => actions.openDialog('invite-people')}
      >
        Invite people
      </button>
    </div>
  );
}

function NotificationPrompt() {
  const { notifications } = useServices();
  const [permission, setPermission] = useState(() => notifications.permission());
  if (permission !== 'default') return null;
  return (
    <div className="notify-prompt">
      <BellIcon />
      <span>Get notified about new messages.</span>
      <button
        type="button"
        className="link-button"
        onClick={() => void notifications.request().then(setPermission)}
      >
        Turn on
      </button>
    </div>
  );
}

function SidebarFooter() {
  const actions = useActions();
  const me = useParley((s) => s.me);
  const status = useParley((s) => s.status);
  if (me === null) return null;
  const label = status === 'online' ? 'Online' : status === 'offline' ? 'Offline' : 'Connecting…';
  return (
    <footer className="sidebar-foot">
      <span className="me-avatar">
        <Avatar userId={me.id} name={me.name} size="sm" />
        <PresenceDot online={status === 'online'} />
      </span>
      <span className="me-text">
        <span className="me-name">{me.name}</span>
        <span className="me-status">{label}</span>
      </span>
      <IconButton label="Sign-in codes" onClick={() => actions.openDialog('sign-in-codes')}>
        <KeyIcon />
      </IconButton>
      <IconButton label="Sign out" onClick={() => actions.openDialog('sign-out')}>
        <SignOutIcon />
      </IconButton>
    </footer>
  );
}
