/**
 * Ctrl/Cmd+K: type to filter chats, ↑/↓ to move, Enter to open, Esc to close. The text box keeps
 * focus; the highlighted option is exposed with aria-activedescendant.
 */
import { useMemo, useState } from 'react';
import { chatTitle, sortedChats } from '../state/selectors.js';
import type { ChatState } from '../state/types.js';
import { dmPeer } from './chat-peer.js';
import { Avatar } from './Avatar.js';
import { Dialog } from './Dialog.js';
import { rankByQuery } from './fuzzy-match.js';
import { HashIcon, LockIcon } from './Icons.js';
import { useClient, useParley, useParleyShallow } from './parley-context.js';
import { SwitcherHint, SwitcherInput } from './SwitcherInput.js';
import { useActiveOption } from './use-active-option.js';

interface Entry {
  chat: ChatState;
  title: string;
}

export function QuickSwitcher({ onClose }: { onClose: () => void }) {
  const client = useClient();
  const chats = useParleyShallow(sortedChats);
  const titles = useParleyShallow((s) => chats.map((c) => chatTitle(s, c)));
  const activeChatId = useParley((s) => s.activeChatId);
  const myId = useParley((s) => s.me?.id ?? null);
  const [query, setQuery] = useState('');

  const entries = useMemo(() => {
    const all: Entry[] = chats.map((chat, i) => ({ chat, title: titles[i] ?? chat.name }));
    if (query.trim() === '') {
      // Unread first, then the usual order; the open chat last (you are already there).
      return [...all].sort(
        (a, b) =>
          Number(b.chat.unread_count > 0) - Number(a.chat.unread_count > 0) ||
          Number(a.chat.id === activeChatId) - Number(b.chat.id === activeChatId),
      );
    }
    return rankByQuery(all, query, (e) => e.title);
  }, [chats, titles, query, activeChatId]);

  // Opening a chat closes the dialog (the store clears it).
  const open = (entry: Entry) => client.openChat(entry.chat.id);
  const active = useActiveOption(entries, open);
  const { selected, setIndex, listId, optionId } = active;

  return (
    <Dialog title="Quick switcher" onClose={onClose} className="dialog-switcher">
      <SwitcherInput
        label="Search chats"
        placeholder="Jump to a room or person…"
        value={query}
        onChange={(value) => {
          setQuery(value);
          setIndex(0);
        }}
        active={active}
        count={entries.length}
      />
      <ul id={listId} className="switcher-list" role="listbox" aria-label="Chats">
        {entries.map((entry, i) => (
          <li
            key={entry.chat.id}
            id={optionId(i)}
            role="option"
            aria-selected={i === selected}
            className={`switcher-option${i === selected ? ' is-selected' : ''}`}
            onMouseMove={() => i !== selected && setIndex(i)}
            onClick={() => open(entry)}
          >
            <span className="switcher-option-icon" aria-hidden="true">
              {entry.chat.kind === 'dm' ? (
                <Avatar userId={dmPeer(entry.chat, myId)} name={entry.title} size="sm" />
              ) : entry.chat.visibility === 'private' ? (
                <LockIcon />
              ) : (
                <HashIcon />
              )}
            </span>
            <span className="switcher-option-title">{entry.title}</span>
            {entry.chat.unread_count > 0 ? (
              <span className="badge" role="img" aria-label={`${entry.chat.unread_count} unread`}>
                {entry.chat.unread_count}
              </span>
            ) : null}
            {entry.chat.id === activeChatId ? (
              <span className="switcher-option-note">current</span>
            ) : null}
          </li>
        ))}
      </ul>
      {entries.length === 0 ? (
        <p className="muted picker-empty">No chat matches “{query.trim()}”.</p>
      ) : null}
      <SwitcherHint />
    </Dialog>
  );
}
