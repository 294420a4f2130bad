/** One open chat: its header, the message list, the composer and the typing line. */
import { useState } from 'react';
import { chatTitle, onlineUserIds } from '../state/selectors.js';
import { AddPeopleDialog } from './AddPeopleDialog.js';
import { PresenceDot } from './Avatar.js';
import { dmPeer } from './chat-peer.js';
import { roomLabel } from './chat-text.js';
import { Composer } from './Composer.js';
import { IconButton } from './IconButton.js';
import { HashIcon, LeaveIcon, LockIcon, SearchIcon, TimerIcon, UserPlusIcon } from './Icons.js';
import { LeaveRoomDialog } from './LeaveRoomDialog.js';
import { MemberListDialog } from './MemberListDialog.js';
import { MessageList } from './MessageList.js';
import { useActions, useClient, useParley, useParleyShallow } from './parley-context.js';
import { SEARCH_KEYS } from './shortcuts.js';
import { SidebarToggle } from './SidebarDrawer.js';
import { TypingLine } from './TypingLine.js';
import { formatDuration } from './vanish-time.js';

export function ChatView({ chatId }: { chatId: string }) {
  const chat = useParley((s) => s.chats[chatId]);
  if (chat === undefined) return null;
  return (
    <section className="chat-view" aria-labelledby={`chat-title-${chatId}`}>
      <ChatHeader chatId={chatId} />
      <MessageList chatId={chatId} />
      <footer className="chat-foot">
        <Composer chatId={chatId} />
        <TypingLine chatId={chatId} />
      </footer>
    </section>
  );
}

function ChatHeader({ chatId }: { chatId: string }) {
  const client = useClient();
  const actions = useActions();
  const chat = useParley((s) => s.chats[chatId]);
  const title = useParley((s) => {
    const c = s.chats[chatId];
    return c === undefined ? '' : chatTitle(s, c);
  });
  const myId = useParley((s) => s.me?.id ?? null);
  const online = useParleyShallow(onlineUserIds);
  const mainId = useParley((s) => Object.values(s.chats).find((c) => c.is_main)?.id ?? null);
  const connected = useParley((s) => s.status === 'online');
  const [adding, setAdding] = useState(false);
  const [confirmLeave, setConfirmLeave] = useState(false);
  const [showMembers, setShowMembers] = useState(false);
  if (chat === undefined) return null;

  const isRoom = chat.kind === 'room';
  // Presence is only known while connected; offline, the last list would be stale.
  const here = connected ? Object.keys(chat.present).length : 0;
  const peerOnline = connected && !isRoom && online.has(dmPeer(chat, myId));

  async function leave(): Promise<string | null> {
    const result = await client.leaveRoom(chatId);
    if (!result.ok) return result.message || result.code;
    if (mainId !== null && mainId !== chatId) client.openChat(mainId);
    return null;
  }

  return (
    <header className="chat-head">
      <SidebarToggle />
      <div className="chat-head-main">
        <h1 id={`chat-title-${chatId}`} className="chat-title">
          <span className="chat-title-icon" aria-hidden="true">
            {isRoom ? chat.visibility === 'private' ? <LockIcon /> : <HashIcon /> : null}
          </span>
          {!isRoom ? <PresenceDot online={peerOnline} /> : null}
          <span className="chat-title-text" title={title}>
            {title}
          </span>
        </h1>
        <div className="chat-meta">
          {isRoom ? (
            <span>
              {chat.visibility === 'private' ? 'Private room' : 'Public room'}
              {here > 0 ? (
                <>
                  {' · '}
                  <button
                    type="button"
                    className="link-button here-now"
                    aria-haspopup="dialog"
                    title="Show the members of this room"
                    onClick={() => setShowMembers(true)}
                  >
                    {here} here now
                  </button>
                </>
              ) : null}
            </span>
          ) : (
            <span>{peerOnline ? 'Online' : 'Offline'}</span>
          )}
          {chat.ephemeral_ttl_s !== null ? (
            <span className="chip chip-ephemeral">
              <TimerIcon />
              Messages vanish after {formatDuration(chat.ephemeral_ttl_s)}
            </span>
          ) : null}
        </div>
      </div>
      <div className="chat-head-actions">
        <IconButton
          label="Search messages"
          title={`Search messages (${SEARCH_KEYS.label})`}
          onClick={() => actions.openDialog('search')}
        >
          <SearchIcon />
        </IconButton>
        {/* Everyone is in the main room already: nobody to add, and it cannot be left. */}
        {isRoom ? (
          <>
            {!chat.is_main ? (
              <button
                type="button"
                className="button ghost small"
                onClick={() => setAdding(true)}
                title="Add people to this room"
              >
                <UserPlusIcon />
                Add people
              </button>
            ) : null}
            {!chat.is_main ? (
              <button
                type="button"
                className="button ghost small"
                aria-haspopup="dialog"
                onClick={() => setConfirmLeave(true)}
                title="Leave this room"
              >
                <LeaveIcon />
                Leave room
              </button>
            ) : null}
          </>
        ) : null}
      </div>
      {adding ? (
        <AddPeopleDialog chatId={chatId} roomName={title} onClose={() => setAdding(false)} />
      ) : null}
      {confirmLeave ? (
        <LeaveRoomDialog chat={chat} onLeave={leave} onClose={() => setConfirmLeave(false)} />
      ) : null}
      {showMembers ? (
        <MemberListDialog
          chatId={chatId}
          roomLabel={roomLabel(chat, title)}
          onClose={() => setShowMembers(false)}
        />
      ) : null}
    </header>
  );
}
