/**
 * Create a room: name, public or private, and optionally vanishing messages (after a number of
 * minutes, hours or days, with presets; within the relay's range, see vanish-time.ts).
 */
import { useId, useState, type FormEvent } from 'react';
import { isRoomName, normalizeName } from '../../relay/protocol/display-name.js';
import { EPHEMERAL_TTL_MAX_S } from '../../relay/protocol/events.js';
import { Dialog } from './Dialog.js';
import { useClient } from './parley-context.js';
import {
  DEFAULT_VANISH,
  VANISH_PRESETS,
  VANISH_UNITS,
  formatDuration,
  secondsPer,
  vanishRange,
  vanishSeconds,
  type VanishUnit,
} from './vanish-time.js';

export function NewRoomDialog({ onClose }: { onClose: () => void }) {
  const client = useClient();
  const [name, setName] = useState('');
  const [visibility, setVisibility] = useState<'public' | 'private'>('public');
  const [vanish, setVanish] = useState(false);
  const [ttl, setTtl] = useState(String(DEFAULT_VANISH.amount));
  const [unit, setUnit] = useState<VanishUnit>(DEFAULT_VANISH.unit);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [ttlInvalid, setTtlInvalid] = useState(false);
  const ids = {
    name: useId(),
    ttl: useId(),
    unit: useId(),
    vanish: useId(),
    hint: useId(),
    range: useId(),
  };
  const range = vanishRange();
  const current = vanishSeconds(ttl, unit);

  function pickTtl(amount: string, nextUnit: VanishUnit) {
    setTtl(amount);
    setUnit(nextUnit);
    // Choosing a time means wanting vanishing messages.
    setVanish(true);
    // A new time answers the complaint about the old one.
    if (ttlInvalid) setError(null);
    setTtlInvalid(false);
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    const trimmed = name.trim();
    if (trimmed === '') {
      setError('Give the room a name.');
      return;
    }
    // The relay's rule (relay/protocol/display-name.ts), said before it refuses the request.
    if (!isRoomName(normalizeName(trimmed))) {
      setError('Use a name with letters or digits and no control or invisible characters.');
      return;
    }
    const time = vanishSeconds(ttl, unit);
    if (vanish && !time.ok) {
      setTtlInvalid(true);
      setError(time.message);
      return;
    }
    setBusy(true);
    setError(null);
    const result = await client.createRoom({
      name: trimmed,
      visibility,
      ...(vanish && time.ok ? { ephemeralTtlS: time.seconds } : {}),
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
            <label htmlFor={ids.ttl}>Vanish after</label>
            <div className="ttl-inputs">
              <input
                id={ids.ttl}
                type="number"
                min={1}
                max={Math.floor(EPHEMERAL_TTL_MAX_S / secondsPer(unit))}
                step={1}
                inputMode="numeric"
                value={ttl}
                aria-invalid={vanish && ttlInvalid ? true : undefined}
                aria-describedby={ids.range}
                onChange={(e) => pickTtl(e.target.value, unit)}
              />
              <label htmlFor={ids.unit} className="sr-only">
                Unit
              </label>
              <select
                id={ids.unit}
                value={unit}
                onChange={(e) => {
                  const picked = VANISH_UNITS.find((u) => u.unit === e.target.value);
                  if (picked !== undefined) pickTtl(ttl, picked.unit);
                }}
              >
                {[...VANISH_UNITS].reverse().map((u) => (
                  <option key={u.unit} value={u.unit}>
                    {u.unit}
                  </option>
                ))}
              </select>
            </div>
            <div className="ttl-presets" role="group" aria-label="Common times">
              {VANISH_PRESETS.map((preset) => {
                const seconds = preset.amount * secondsPer(preset.unit);
                const label = formatDuration(seconds);
                const chosen = vanish && current.ok && current.seconds === seconds;
                return (
                  <button
                    key={label}
                    type="button"
                    className={`chip ttl-preset${chosen ? ' is-selected' : ''}`}
                    aria-pressed={chosen}
                    onClick={() => pickTtl(String(preset.amount), preset.unit)}
                  >
                    {label}
                  </button>
                );
              })}
            </div>
            <span className="choice-hint" id={ids.range}>
              From {range.min} to {range.max}.
            </span>
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
