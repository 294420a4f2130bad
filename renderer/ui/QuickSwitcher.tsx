/**
 * Ctrl/Cmd+K: type to filter chats, ↑/↓ to move, Enter to open, Esc to close. The text box keeps
 * focus; the highlighted option is exposed with aria-activedescendant.
 */
import { useId, useMemo, useState, type KeyboardEvent } from 'react';
import { chatTitle, sortedChats } from '../state/selectors.js';
import type { ChatState } from '../state/types.js';
import { dmPeer } from './chat-peer.js';
import { Avatar } from './Avatar.js';
import { Dialog } from './Dialog.js';
import { rankByQuery } from './fuzzy-match.js';
import { HashIcon, LockIcon } from './Icons.js';
import { useClient, useParley, useParleyShallow } from './parley-context.js';

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
  const [index, setIndex] = useState(0);
  const listId = useId();
  const inputId = useId();

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

  const selected = Math.min(index, Math.max(0, entries.length - 1));

  function open(entry: Entry | undefined) {
    if (entry === undefined) return;
    // Opening a chat closes the dialog (the store clears it).
    client.openChat(entry.chat.id);
  }

  function onKeyDown(event: KeyboardEvent<HTMLInputElement>) {
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      const step = event.key === 'ArrowDown' ? 1 : -1;
      setIndex((selected + step + entries.length) % Math.max(1, entries.length));
    } else if (event.key === 'Enter') {
      event.preventDefault();
      open(entries[selected]);
    }
  }

  const optionId = (i: number) => `${listId}-opt-${i}`;

  return (
    <Dialog title="Quick switcher" onClose={onClose} className="dialog-switcher">
      <label htmlFor={inputId} className="sr-only">
        Search chats
      </label>
      <input
        id={inputId}
        type="text"
        className="switcher-input"
        placeholder="Jump to a room or person…"
        autoComplete="off"
        spellCheck={false}
        aria-controls={listId}
        aria-activedescendant={entries.length > 0 ? optionId(selected) : undefined}
        value={query}
        onChange={(e) => {
          setQuery(e.target.value);
          setIndex(0);
        }}
        onKeyDown={onKeyDown}
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
      <p className="switcher-hint" aria-hidden="true">
        <kbd>↑</kbd>
        <kbd>↓</kbd> to move · <kbd>Enter</kbd> to open · <kbd>Esc</kbd> to close
      </p>
    </Dialog>
  );
}
