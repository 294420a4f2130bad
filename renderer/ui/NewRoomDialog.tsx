/** Create a room: name, public or private, and optionally vanishing messages. */
import { useId, useState, type FormEvent } from 'react';
import { Dialog } from './Dialog.js';
import { useClient } from './parley-context.js';

const MAX_TTL_S = 30 * 24 * 3600;

export function NewRoomDialog({ onClose }: { onClose: () => void }) {
  const client = useClient();
  const [name, setName] = useState('');
  const [visibility, setVisibility] = useState<'public' | 'private'>('public');
  const [vanish, setVanish] = useState(false);
  const [ttl, setTtl] = useState('60');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const ids = { name: useId(), ttl: useId(), vanish: useId(), hint: useId() };

  async function submit(event: FormEvent) {
    event.preventDefault();
    const trimmed = name.trim();
    if (trimmed === '') {
      setError('Give the room a name.');
      return;
    }
    const seconds = Number(ttl);
    if (vanish && (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_TTL_S)) {
      setError(`Messages can vanish after 1 to ${MAX_TTL_S.toLocaleString()} seconds.`);
      return;
    }
    setBusy(true);
    setError(null);
    const result = await client.createRoom({
      name: trimmed,
      visibility,
      ...(vanish ? { ephemeralTtlS: seconds } : {}),
    });
    // On success the client opens the new room, which closes this dialog.
    if (!result.ok) {
      setBusy(false);
      setError(
        result.message === '' ? `Could not create the room (${result.code}).` : result.message,
      );
    }
  }

  return (
    <Dialog title="New room" onClose={onClose} className="dialog-form">
      <form className="form" onSubmit={(e) => void submit(e)} noValidate>
        <div className="field">
          <label htmlFor={ids.name}>Room name</label>
          <input
            id={ids.name}
            type="text"
            maxLength={80}
            placeholder="e.g. design-review"
            value={name}
            onChange={(e) => setName(e.target.value)}
          />
        </div>
        <fieldset className="field choice-group">
          <legend>Who can join</legend>
          {(
            [
              ['public', 'Public', 'Anyone can find and join it.'],
              ['private', 'Private', 'Only people you add.'],
            ] as const
          ).map(([value, label, hint]) => (
            <div className="choice" key={value}>
              <input
                id={`${ids.hint}-${value}`}
                type="radio"
                name="visibility"
                value={value}
                checked={visibility === value}
                onChange={() => setVisibility(value)}
                aria-describedby={`${ids.hint}-${value}-hint`}
              />
              <span className="choice-text">
                <label htmlFor={`${ids.hint}-${value}`} className="choice-title">
                  {label}
                </label>
                <span className="choice-hint" id={`${ids.hint}-${value}-hint`}>
                  {hint}
                </span>
              </span>
            </div>
          ))}
        </fieldset>
        <div className="field vanish-row">
          <label className="choice inline" htmlFor={ids.vanish}>
            <input
              id={ids.vanish}
              type="checkbox"
              checked={vanish}
              onChange={(e) => setVanish(e.target.checked)}
            />
            <span className="choice-title">Messages vanish</span>
          </label>
          <div className={`ttl-field${vanish ? '' : ' is-off'}`}>
            <label htmlFor={ids.ttl}>Vanish after (seconds)</label>
            <input
              id={ids.ttl}
              type="number"
              min={1}
              max={MAX_TTL_S}
              step={1}
              inputMode="numeric"
              value={ttl}
              onChange={(e) => {
                setTtl(e.target.value);
                // Choosing a time means wanting vanishing messages.
                setVanish(true);
              }}
            />
          </div>
        </div>
        {error === null ? null : (
          <div className="form-error" role="alert">
            {error}
          </div>
        )}
        <div className="dialog-actions">
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button primary" disabled={busy}>
            {busy ? 'Creating…' : 'Create'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
