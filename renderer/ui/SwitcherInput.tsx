/**
 * The text box at the top of a switcher-style dialog (quick switcher, message search): it keeps
 * focus while ↑/↓ move the highlighted option of its listbox (useActiveOption), which it points
 * to with aria-activedescendant. The label is for screen readers; the placeholder shows.
 */
import { useId } from 'react';
import type { ActiveOption } from './use-active-option.js';

export function SwitcherInput({
  label,
  placeholder,
  value,
  onChange,
  active,
  count,
  role,
  maxLength,
}: {
  label: string;
  placeholder: string;
  value: string;
  onChange: (value: string) => void;
  active: ActiveOption;
  /** Options in the list now. */
  count: number;
  role?: 'searchbox';
  maxLength?: number;
}) {
  const inputId = useId();
  return (
    <>
      <label htmlFor={inputId} className="sr-only">
        {label}
      </label>
      <input
        id={inputId}
        type="text"
        role={role}
        className="switcher-input"
        placeholder={placeholder}
        autoComplete="off"
        spellCheck={false}
        maxLength={maxLength}
        aria-controls={active.listId}
        aria-activedescendant={count > 0 ? active.optionId(active.selected) : undefined}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        onKeyDown={active.onKeyDown}
      />
    </>
  );
}

/** The keys line at the foot of a switcher-style dialog. */
export function SwitcherHint() {
  return (
    <p className="switcher-hint" aria-hidden="true">
      <kbd>↑</kbd>
      <kbd>↓</kbd> to move · <kbd>Enter</kbd> to open · <kbd>Esc</kbd> to close
    </p>
  );
}
