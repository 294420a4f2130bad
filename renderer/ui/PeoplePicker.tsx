/**
 * A searchable list of people (everyone on the server but oneself), one button per person named
 * exactly after them. Used by "New message" and "Add people". Refreshes the directory on open,
 * so people who signed up since are there.
 */
import { useEffect, useId, useMemo, useState, type ReactNode } from 'react';
import { onlineUserIds } from '../state/selectors.js';
import type { UserInfo } from '../state/types.js';
import { Avatar, PresenceDot } from './Avatar.js';
import { rankByQuery } from './fuzzy-match.js';
import { useClient, useParley, useParleyShallow } from './parley-context.js';

export function PeoplePicker({
  onPick,
  disabled = false,
  trailing,
  label = (user) => user.name,
}: {
  onPick: (user: UserInfo) => void;
  disabled?: boolean;
  /** Extra content at the end of a person's row (e.g. "Added"). */
  trailing?: (user: UserInfo) => ReactNode;
  /** The accessible name of a person's button. */
  label?: (user: UserInfo) => string;
}) {
  const client = useClient();
  const myId = useParley((s) => s.me?.id ?? null);
  const users = useParley((s) => s.users);
  const online = useParleyShallow(onlineUserIds);
  const [query, setQuery] = useState('');
  const searchId = useId();

  useEffect(() => {
    void client.refreshDirectory();
  }, [client]);

  const people = useMemo(() => {
    const others = Object.values(users)
      .filter((u) => u.id !== myId)
      .sort((a, b) => a.name.localeCompare(b.name));
    return rankByQuery(others, query, (u) => u.name);
  }, [users, myId, query]);

  return (
    <div className="picker">
      <label htmlFor={searchId} className="sr-only">
        Search people
      </label>
      <input
        id={searchId}
        type="text"
        className="picker-search"
        placeholder="Search people"
        autoComplete="off"
        value={query}
        onChange={(e) => setQuery(e.target.value)}
        onKeyDown={(e) => {
          const first = people[0];
          if (e.key === 'Enter' && first !== undefined && !disabled) {
            e.preventDefault();
            onPick(first);
          }
        }}
      />
      <ul className="picker-list">
        {people.map((user) => (
          <li key={user.id} className="picker-row">
            <button
              type="button"
              className="picker-item"
              aria-label={label(user)}
              disabled={disabled}
              onClick={() => onPick(user)}
            >
              <span className="picker-avatar">
                <Avatar userId={user.id} name={user.name} size="sm" />
                <PresenceDot online={online.has(user.id)} />
              </span>
              <span className="picker-name">{user.name}</span>
              <span className="picker-status" aria-hidden="true">
                {online.has(user.id) ? 'online' : ''}
              </span>
            </button>
            {trailing?.(user)}
          </li>
        ))}
      </ul>
      {people.length === 0 ? (
        <p className="picker-empty muted">
          {query.trim() === ''
            ? 'Nobody else has signed in to this server yet.'
            : `Nobody matches “${query.trim()}”.`}
        </p>
      ) : null}
    </div>
  );
}
