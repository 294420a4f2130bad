/**
 * A message's actions (Edit, Delete) for one's own messages: a small "Message actions" button
 * that shows on hover or keyboard focus, and the same menu on right-click. A WAI-ARIA menu
 * button: ↑/↓ (and Home/End) move between the items, Enter or Space picks one, Esc closes and
 * gives focus back to the button, Tab or a click elsewhere closes.
 */
import { useEffect, useId, useRef, type KeyboardEvent } from 'react';
import { MoreIcon } from './Icons.js';

export interface MessageMenuItem {
  label: string;
  /** Marks a destructive item (shown in the danger colour). */
  danger?: boolean;
  onSelect(): void;
}

export function MessageMenu({
  open,
  onOpenChange,
  items,
}: {
  open: boolean;
  onOpenChange(open: boolean): void;
  items: readonly MessageMenuItem[];
}) {
  const menuId = useId();
  const wrapRef = useRef<HTMLDivElement>(null);
  const buttonRef = useRef<HTMLButtonElement>(null);
  const onOpenChangeRef = useRef(onOpenChange);
  onOpenChangeRef.current = onOpenChange;

  // Opened (by the button, the keyboard or a right-click): the first item takes the focus, and a
  // press anywhere else closes the menu.
  useEffect(() => {
    if (!open) return;
    wrapRef.current?.querySelector<HTMLElement>('[role="menuitem"]')?.focus();
    const onPointerDown = (event: PointerEvent) => {
      if (event.target instanceof Node && wrapRef.current?.contains(event.target) === true) return;
      onOpenChangeRef.current(false);
    };
    document.addEventListener('pointerdown', onPointerDown, true);
    return () => document.removeEventListener('pointerdown', onPointerDown, true);
  }, [open]);

  function close(focusButton: boolean) {
    onOpenChange(false);
    if (focusButton) buttonRef.current?.focus();
  }

  function onMenuKeyDown(event: KeyboardEvent<HTMLDivElement>) {
    const entries = [
      ...(wrapRef.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? []),
    ];
    const at = entries.indexOf(document.activeElement as HTMLElement);
    const move = (to: number) => entries[(to + entries.length) % entries.length]?.focus();
    switch (event.key) {
      case 'ArrowDown':
        move(at + 1);
        break;
      case 'ArrowUp':
        move(at - 1);
        break;
      case 'Home':
        move(0);
        break;
      case 'End':
        move(entries.length - 1);
        break;
      case 'Escape':
        close(true);
        break;
      case 'Tab':
        close(false);
        return;
      default:
        return;
    }
    event.preventDefault();
    event.stopPropagation();
  }

  return (
    <div ref={wrapRef} className={`msg-actions${open ? ' is-open' : ''}`}>
      <button
        ref={buttonRef}
        type="button"
        className="icon-button small msg-actions-button"
        aria-label="Message actions"
        title="Message actions"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? menuId : undefined}
        onClick={() => onOpenChange(!open)}
        onKeyDown={(event) => {
          if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
            event.preventDefault();
            onOpenChange(true);
          }
        }}
      >
        <MoreIcon />
      </button>
      {open ? (
        <div
          id={menuId}
          className="msg-menu"
          role="menu"
          aria-label="Message actions"
          onKeyDown={onMenuKeyDown}
        >
          {items.map((item) => (
            <button
              key={item.label}
              type="button"
              role="menuitem"
              tabIndex={-1}
              className={`msg-menu-item${item.danger === true ? ' is-danger' : ''}`}
              onClick={() => {
                // Focus back on the button first: a dialog opened by the item returns it there.
                close(true);
                item.onSelect();
              }}
            >
              {item.label}
            </button>
          ))}
        </div>
      ) : null}
    </div>
  );
}
