/** The server's public rooms: join one, or open one already joined. */
import { useEffect, useId, useMemo, useState } from 'react';
import type { ChatInfo } from '../state/types.js';
import { Dialog } from './Dialog.js';
import { rankByQuery } from './fuzzy-match.js';
import { HashIcon, TimerIcon } from './Icons.js';
import { useActions, useClient, useParleyShallow } from './parley-context.js';

type Load =
  | { state: 'loading' }
  | { state: 'error'; message: string }
  | { state: 'ready'; rooms: ChatInfo[] };

export function BrowseRoomsDialog({ onClose }: { onClose: () => void }) {
  const client = useClient();
  const actions = useActions();
  const joinedIds = useParleyShallow((s) => Object.keys(s.chats));
  const [load, setLoad] = useState<Load>({ state: 'loading' });
  const [query, setQuery] = useState('');
  const [busyId, setBusyId] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const filterId = useId();

  useEffect(() => {
    let live = true;
    void client.publicRooms().then((result) => {
      if (!live) return;
      if (result.ok) {
        const rooms = [...result.data.chats].sort((a, b) => a.name.localeCompare(b.name));
        setLoad({ state: 'ready', rooms });
      } else {
        setLoad({ state: 'error', message: result.message });
      }
    });
    return () => {
      live = false;
    };
  }, [client]);

  const joined = useMemo(() => new Set(joinedIds), [joinedIds]);
  const rooms = load.state === 'ready' ? rankByQuery(load.rooms, query, (r) => r.name) : [];

  function join(room: ChatInfo) {
    setBusyId(room.id);
    setError(null);
    void client.joinRoom(room.id).then((result) => {
      // On success the client opens the room, which closes this dialog.
      if (!result.ok) {
        setBusyId(null);
        setError(result.message === '' ? `Could not join ${room.name}.` : result.message);
      }
    });
  }

  return (
    <Dialog title="Browse rooms" onClose={onClose} className="dialog-list">
      <label htmlFor={filterId} className="sr-only">
        Filter rooms
      </label>
      <input
        id={filterId}
        type="text"
        className="picker-search"
        placeholder="Filter rooms"
        autoComplete="off"
        value={query}
        onChange={(e) => setQuery(e.target.value)}
      />
      {load.state === 'loading' ? <p className="muted picker-empty">Loading rooms…</p> : null}
      {load.state === 'error' ? (
        <div className="form-error" role="alert">
          {load.message}
        </div>
      ) : null}
      {load.state === 'ready' && rooms.length === 0 ? (
        <p className="muted picker-empty">
          {load.rooms.length === 0 ? 'No public rooms yet.' : `No room matches “${query.trim()}”.`}{' '}
          <button
            type="button"
            className="link-button"
            onClick={() => actions.openDialog('new-room')}
          >
            Create one
          </button>
        </p>
      ) : null}
      <ul className="room-list">
        {rooms.map((room) => {
          const isMember = joined.has(room.id);
          return (
            <li key={room.id} className="room-row">
              <span className="room-icon" aria-hidden="true">
                <HashIcon />
              </span>
              <span className="room-text">
                <span className="room-name">{room.name}</span>
                <span className="room-meta">
                  {room.is_main ? 'Everyone is here' : isMember ? 'Joined' : 'Public room'}
                  {room.ephemeral_ttl_s !== null ? (
                    <>
                      {' · '}
                      <TimerIcon /> vanishes after {room.ephemeral_ttl_s} s
                    </>
                  ) : null}
                </span>
              </span>
              {isMember ? (
                <button
                  type="button"
                  className="button small"
                  onClick={() => client.openChat(room.id)}
                  aria-label={`Open ${room.name}`}
                >
                  Open
                </button>
              ) : (
                <button
                  type="button"
                  className="button primary small"
                  onClick={() => join(room)}
                  disabled={busyId !== null}
                  aria-label={`Join ${room.name}`}
                >
                  {busyId === room.id ? 'Joining…' : 'Join'}
                </button>
              )}
            </li>
          );
        })}
      </ul>
      {error === null ? null : (
        <div className="form-error" role="alert">
          {error}
        </div>
      )}
    </Dialog>
  );
}
