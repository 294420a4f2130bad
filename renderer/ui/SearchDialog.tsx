/**
 * Ctrl/Cmd+Shift+F, or the search button of a chat: searches the messages of one's chats on the
 * relay (relay/PROTOCOL.md, "Search"), newest first, as one types (after a short pause). ↑/↓ move,
 * Enter opens the chat at that message, Esc closes; "All chats" or only the open one. Results
 * show the chat, sender, time and an excerpt with the matching words marked (as text).
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import type { WireMessage } from '../../relay/protocol/events.js';
import { searchTerms } from '../../relay/protocol/search-terms.js';
import { chatTitle, currentResults } from '../state/selectors.js';
import { dmPeer } from './chat-peer.js';
import { Dialog } from './Dialog.js';
import { HashIcon, LockIcon } from './Icons.js';
import { useClient, useParley, useParleyShallow } from './parley-context.js';
import { resultHeading, searchSnippet } from './search-snippet.js';
import { dayLabel, formatDateTime, formatTime } from './time-format.js';
import { SwitcherHint, SwitcherInput } from './SwitcherInput.js';
import { useActiveOption } from './use-active-option.js';

/** Pause after the last keystroke before the relay is asked. */
const TYPING_PAUSE_MS = 250;

type Scope = 'all' | 'chat';

interface Results {
  /** The words these results were found by (marked in them; searched again for more). */
  terms: string[];
  messages: WireMessage[];
  next: string | null;
}

export function SearchDialog({ onClose }: { onClose: () => void }) {
  const client = useClient();
  const activeChatId = useParley((s) => s.activeChatId);
  const activeTitle = useParley((s) => {
    const chat = s.activeChatId === null ? undefined : s.chats[s.activeChatId];
    return chat === undefined ? null : chatTitle(s, chat);
  });
  const [query, setQuery] = useState('');
  const [scope, setScope] = useState<Scope>('all');
  const [results, setResults] = useState<Results | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // Answers can arrive out of order: only the latest request's is shown.
  const latest = useRef(0);
  // As the store holds them now: edited since the relay answered, or deleted (left out).
  const timelines = useParley((s) => s.timelines);
  const found = results?.messages;
  const messages = useMemo(
    () => (found === undefined ? [] : currentResults(found, timelines)),
    [found, timelines],
  );
  // Opening the chat closes the dialog (the store clears it).
  const open = (message: WireMessage) => void client.revealMessage(message.chat_id, message.seq);
  const active = useActiveOption(messages, open);
  const { selected, setIndex, listId, optionId } = active;

  const terms = useMemo(() => searchTerms(query), [query]);
  const chatId = scope === 'chat' && activeChatId !== null ? activeChatId : undefined;
  const termsKey = terms.join(' ');

  useEffect(() => {
    const request = (latest.current += 1);
    if (termsKey === '') {
      setResults(null);
      setLoading(false);
      setError(null);
      return;
    }
    setLoading(true);
    const timer = setTimeout(() => {
      void client.search({ q: termsKey, chatId }).then((page) => {
        if (request !== latest.current) return;
        setLoading(false);
        setIndex(0);
        if (page.ok) {
          setError(null);
          setResults({ terms: termsKey.split(' '), ...page.data });
        } else {
          setError(searchError(page));
        }
      });
    }, TYPING_PAUSE_MS);
    return () => clearTimeout(timer);
  }, [client, termsKey, chatId]);

  async function loadMore() {
    if (results === null || results.next === null || loading) return;
    const request = (latest.current += 1);
    setLoading(true);
    const page = await client.search({ q: results.terms.join(' '), chatId, before: results.next });
    if (request !== latest.current) return;
    setLoading(false);
    if (!page.ok) {
      setError(searchError(page));
      return;
    }
    setResults({
      ...results,
      messages: [...results.messages, ...page.data.messages],
      next: page.data.next,
    });
  }

  const status = statusLine({ terms, loading, error, results, scope, activeTitle });

  return (
    <Dialog title="Search messages" onClose={onClose} className="dialog-switcher dialog-search">
      <SwitcherInput
        label="Search messages"
        placeholder="Search messages…"
        role="searchbox"
        maxLength={256}
        value={query}
        onChange={setQuery}
        active={active}
        count={messages.length}
      />
      {activeChatId !== null && activeTitle !== null ? (
        <div className="search-scope" role="radiogroup" aria-label="Where to search">
          <ScopeButton current={scope} value="all" onPick={setScope}>
            All chats
          </ScopeButton>
          <ScopeButton current={scope} value="chat" onPick={setScope}>
            In {activeTitle}
          </ScopeButton>
        </div>
      ) : null}
      <ul id={listId} className="switcher-list search-results" role="listbox" aria-label="Results">
        {messages.map((message, i) => (
          <SearchResult
            key={message.message_id}
            id={optionId(i)}
            message={message}
            terms={results?.terms ?? []}
            selected={i === selected}
            onHover={() => i !== selected && setIndex(i)}
            onOpen={() => open(message)}
          />
        ))}
      </ul>
      {status === null ? null : (
        <p className="muted picker-empty" role="status">
          {status}
        </p>
      )}
      {results !== null && results.next !== null && !loading ? (
        <button
          type="button"
          className="button ghost small search-more"
          onClick={() => void loadMore()}
        >
          Show older results
        </button>
      ) : null}
      <SwitcherHint />
    </Dialog>
  );
}

/** What a failed search says: the relay's own words, except where the reader needs other ones. */
function searchError(failure: { code: string; message: string }): string {
  if (failure.code === 'unreachable') return 'the server cannot be reached right now.';
  return failure.message;
}

function statusLine(input: {
  terms: string[];
  loading: boolean;
  error: string | null;
  results: Results | null;
  scope: Scope;
  activeTitle: string | null;
}): string | null {
  if (input.terms.length === 0) return 'Type words to find messages in your chats.';
  if (input.error !== null) return `Search failed: ${input.error}`;
  if (input.loading) return 'Searching…';
  if (input.results !== null && input.results.messages.length === 0) {
    const where =
      input.scope === 'chat' && input.activeTitle !== null ? ` in ${input.activeTitle}` : '';
    return `No messages match “${input.terms.join(' ')}”${where}.`;
  }
  return null;
}

function ScopeButton({
  current,
  value,
  onPick,
  children,
}: {
  current: Scope;
  value: Scope;
  onPick: (scope: Scope) => void;
  children: string | string[];
}) {
  return (
    <button
      type="button"
      role="radio"
      aria-checked={current === value}
      className={`chip search-scope-option${current === value ? ' is-selected' : ''}`}
      onClick={() => onPick(value)}
    >
      {children}
    </button>
  );
}

function SearchResult({
  id,
  message,
  terms,
  selected,
  onHover,
  onOpen,
}: {
  id: string;
  message: WireMessage;
  terms: string[];
  selected: boolean;
  onHover: () => void;
  onOpen: () => void;
}) {
  const chat = useParleyShallow((s) => {
    const c = s.chats[message.chat_id];
    return c === undefined
      ? { title: 'a chat', kind: 'room' as const, visibility: 'public', peerId: null }
      : {
          title: chatTitle(s, c),
          kind: c.kind,
          visibility: c.visibility,
          peerId: c.kind === 'dm' ? dmPeer(c, s.me?.id ?? null) : null,
        };
  });
  const heading = resultHeading({
    chatKind: chat.kind,
    chatTitle: chat.title,
    peerId: chat.peerId,
    senderId: message.sender_id,
    senderName: message.sender_name,
  });
  const snippet = useMemo(() => searchSnippet(message.content, terms), [message.content, terms]);
  const at = Date.parse(message.timestamp);
  return (
    <li
      id={id}
      role="option"
      aria-selected={selected}
      className={`search-result${selected ? ' is-selected' : ''}`}
      onMouseMove={onHover}
      onClick={onOpen}
    >
      <div className="search-result-head">
        <span className="switcher-option-icon" aria-hidden="true">
          {chat.kind === 'room' ? (
            chat.visibility === 'private' ? (
              <LockIcon />
            ) : (
              <HashIcon />
            )
          ) : null}
        </span>
        <span className="search-result-chat">{heading.chat}</span>
        <span className="search-result-sender">{heading.sender}</span>
        <time
          className="search-result-time"
          dateTime={message.timestamp}
          title={formatDateTime(at)}
        >
          {dayLabel(at, Date.now()).short}, {formatTime(at)}
        </time>
      </div>
      <p className="search-result-text">
        {snippet.clippedStart ? '… ' : null}
        {snippet.parts.map((part, i) =>
          part.hit ? (
            <mark key={i} className="search-hit">
              {part.text}
            </mark>
          ) : (
            part.text
          ),
        )}
        {snippet.clippedEnd ? ' …' : null}
      </p>
    </li>
  );
}
