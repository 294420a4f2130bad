/**
 * "N here now" in a room's header opens this: the room's members (asked of the relay, which
 * answers members only), online people first, a search box for big rooms, and a "Message"
 * button per person (opens the DM, creating it if needed). Presence is live (the room's Phoenix
 * Presence, from the store); the member list is the one fetched when the dialog opened.
 */
import { useEffect, useId, useMemo, useState } from 'react';
import type { UserInfo } from '../state/types.js';
import { Avatar, PresenceDot } from './Avatar.js';
import { Dialog } from './Dialog.js';
import { MessageIcon } from './Icons.js';
import { IconButton } from './IconButton.js';
import { memberListView } from './member-list.js';
import { useClient, useParley } from './parley-context.js';

type Loaded =
  | { state: 'loading' }
  | { state: 'failed'; message: string }
  | { state: 'ready'; members: UserInfo[] };

const NO_ONE: Record<string, number> = {};

export function MemberListDialog({
  chatId,
  roomLabel,
  onClose,
}: {
  chatId: string;
  /** "#design", or a private room's name. */
  roomLabel: string;
  onClose: () => void;
}) {
  const client = useClient();
  const myId = useParley((s) => s.me?.id ?? null);
  const connected = useParley((s) => s.status === 'online');
  const present = useParley((s) => s.chats[chatId]?.present) ?? NO_ONE;
  const [loaded, setLoaded] = useState<Loaded>({ state: 'loading' });
  const [query, setQuery] = useState('');
  const [error, setError] = useState<string | null>(null);
  const searchId = useId();

  useEffect(() => {
    let current = true;
    void client.chatMembers(chatId).then((result) => {
      if (!current) return;
      setLoaded(
        result.ok
          ? { state: 'ready', members: result.data }
          : { state: 'failed', message: result.message || result.code },
      );
    });
    return () => {
      current = false;
    };
  }, [client, chatId]);

  const view = useMemo(() => {
    // Offline, the last presence list would be stale: nobody is shown as online.
    const online = new Set(connected ? Object.keys(present) : []);
    const members = loaded.state === 'ready' ? loaded.members : [];
    return memberListView({ members, online, myId, query });
  }, [loaded, present, connected, myId, query]);

  async function message(user: UserInfo) {
    setError(null);
    // Opening the DM replaces this chat view, and this dialog with it.
    const opened = await client.startDm(user.id);
    if (!opened.ok) setError(`Could not message ${user.name}: ${opened.message || opened.code}`);
  }

  const summary =
    loaded.state === 'ready'
      ? `${count(view.total, 'member')} · ${view.online.toLocaleString('en')} online now`
      : undefined;

  return (
    <Dialog
      title={`Members of ${roomLabel}`}
      description={summary}
      onClose={onClose}
      className="dialog-form dialog-members"
    >
      <label htmlFor={searchId} className="sr-only">
        Search members
      </label>
      <input
        id={searchId}
        type="text"
        className="picker-search"
        placeholder="Search members"
        autoComplete="off"
        value={query}
        onChange={(e) => setQuery(e.target.value)}
      />
      {loaded.state === 'loading' ? (
        <p className="muted picker-empty" role="status">
          Loading members…
        </p>
      ) : null}
      {loaded.state === 'failed' ? (
        <p className="form-error" role="alert">
          Could not load the members: {loaded.message}
        </p>
      ) : null}
      {error === null ? null : (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {loaded.state === 'ready' ? (
        <>
          <ul className="member-list" aria-label="Members">
            {view.rows.map((member) => (
              <li key={member.id} className="member-row">
                <span className="picker-avatar">
                  <Avatar userId={member.id} name={member.name} size="sm" />
                  <PresenceDot online={member.online} />
                </span>
                <span className="member-name">
                  {member.name}
                  {member.me ? <span className="muted"> (you)</span> : null}
                </span>
                <span className={`member-presence${member.online ? ' is-online' : ''}`}>
                  {member.online ? 'Online' : 'Offline'}
                </span>
                {member.me ? null : (
                  <IconButton
                    label={`Message ${member.name}`}
                    title={`Message ${member.name}`}
                    onClick={() => void message(member)}
                  >
                    <MessageIcon />
                  </IconButton>
                )}
              </li>
            ))}
          </ul>
          <p className="muted small picker-empty" role="status">
            {view.matching === 0
              ? `Nobody here matches “${query.trim()}”.`
              : view.rows.length < view.matching
                ? `Showing ${view.rows.length.toLocaleString('en')} of ${count(view.matching, 'member')}; search to find the others.`
                : ''}
          </p>
        </>
      ) : null}
    </Dialog>
  );
}

function count(n: number, noun: string): string {
  return `${n.toLocaleString('en')} ${noun}${n === 1 ? '' : 's'}`;
}
