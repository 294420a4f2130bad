/**
 * The signed-in layout: sidebar, the open chat, the dialog of the moment, and the global keys
 * (Ctrl/Cmd+K quick switcher, Ctrl/Cmd+Shift+F message search, Alt+↑/↓ previous/next chat). The tab title carries the unread
 * total.
 */
import { useEffect } from 'react';
import { sortedChats, totalUnread } from '../state/selectors.js';
import { BrowseRoomsDialog } from './BrowseRoomsDialog.js';
import { ChatView } from './ChatView.js';
import { InviteNotice } from './InviteNotice.js';
import { NewMessageDialog } from './NewMessageDialog.js';
import { NewRoomDialog } from './NewRoomDialog.js';
import { OfflineBanner } from './OfflineBanner.js';
import { useActions, useClient, useParley, useServices } from './parley-context.js';
import { QuickSwitcher } from './QuickSwitcher.js';
import { SearchDialog } from './SearchDialog.js';
import { Sidebar } from './Sidebar.js';
import { SidebarDrawerContext, SidebarToggle, useSidebarDrawerState } from './SidebarDrawer.js';

export function Workspace() {
  const { store } = useServices();
  const client = useClient();
  const actions = useActions();
  const activeChatId = useParley((s) => s.activeChatId);
  const dialog = useParley((s) => s.dialog);
  const unread = useParley(totalUnread);
  const drawer = useSidebarDrawerState(activeChatId);

  useEffect(() => {
    document.title = unread > 0 ? `(${unread}) Parley` : 'Parley';
  }, [unread]);

  useEffect(() => {
    function onKeyDown(event: KeyboardEvent) {
      const mod = event.ctrlKey || event.metaKey;
      if (mod && !event.altKey && !event.shiftKey && event.key.toLowerCase() === 'k') {
        event.preventDefault();
        const current = store.getState().dialog;
        actions.openDialog(current === 'quick-switcher' ? null : 'quick-switcher');
        return;
      }
      if (mod && !event.altKey && event.shiftKey && event.key.toLowerCase() === 'f') {
        event.preventDefault();
        actions.openDialog(store.getState().dialog === 'search' ? null : 'search');
        return;
      }
      if (event.altKey && !mod && (event.key === 'ArrowUp' || event.key === 'ArrowDown')) {
        const state = store.getState();
        if (state.dialog !== null) return;
        const chats = sortedChats(state);
        const at = chats.findIndex((c) => c.id === state.activeChatId);
        const next = chats[(at + (event.key === 'ArrowUp' ? -1 : 1) + chats.length) % chats.length];
        if (next !== undefined) {
          event.preventDefault();
          client.openChat(next.id);
        }
      }
    }
    window.addEventListener('keydown', onKeyDown);
    return () => window.removeEventListener('keydown', onKeyDown);
  }, [store, actions, client]);

  const close = () => actions.openDialog(null);

  // Narrow windows: the sidebar is a drawer over the messages (SidebarDrawer.tsx).
  const drawerOpen = drawer.narrow && drawer.open;
  return (
    <SidebarDrawerContext value={drawer}>
      <div className={`workspace${drawerOpen ? ' is-drawer-open' : ''}`}>
        <Sidebar />
        {drawerOpen ? (
          <div className="drawer-scrim" aria-hidden="true" onClick={drawer.hide} />
        ) : null}
        <main className="chat-pane" inert={drawerOpen}>
          <OfflineBanner />
          <InviteNotice />
          {activeChatId === null ? (
            <div className="empty-chat">
              <SidebarToggle />
              <p className="muted">Pick a chat on the left, or press Ctrl+K to jump to one.</p>
            </div>
          ) : (
            <ChatView key={activeChatId} chatId={activeChatId} />
          )}
        </main>
        {dialog === 'new-room' ? <NewRoomDialog onClose={close} /> : null}
        {dialog === 'new-dm' ? <NewMessageDialog onClose={close} /> : null}
        {dialog === 'browse-rooms' ? <BrowseRoomsDialog onClose={close} /> : null}
        {dialog === 'quick-switcher' ? <QuickSwitcher onClose={close} /> : null}
        {dialog === 'search' ? <SearchDialog onClose={close} /> : null}
      </div>
    </SidebarDrawerContext>
  );
}
