/**
 * A modal dialog: rendered into #dialogs (outside the app), with the app made inert and hidden
 * from assistive technology while it is open; Tab and Shift+Tab cycle inside it; Esc or a click
 * on the backdrop closes it; focus returns to where it was when it closes.
 */
import { useEffect, useId, useRef, type KeyboardEvent, type ReactNode } from 'react';
import { createPortal } from 'react-dom';
import { CloseIcon } from './Icons.js';
import { IconButton } from './IconButton.js';

const FOCUSABLE =
  'a[href], button:not([disabled]), input:not([disabled]), textarea:not([disabled]), select:not([disabled]), [tabindex]:not([tabindex="-1"])';

let openCount = 0;

function setAppHidden(hidden: boolean): void {
  const app = document.getElementById('root');
  if (app === null) return;
  app.inert = hidden;
  if (hidden) app.setAttribute('aria-hidden', 'true');
  else app.removeAttribute('aria-hidden');
}

export function Dialog({
  title,
  description,
  onClose,
  children,
  className = '',
  initialFocus,
}: {
  title: string;
  description?: ReactNode;
  onClose: () => void;
  children: ReactNode;
  className?: string;
  /** CSS selector of the element to focus first (default: the first field or button). */
  initialFocus?: string;
}) {
  const panelRef = useRef<HTMLDivElement>(null);
  const titleId = useId();
  const descriptionId = useId();
  const onCloseRef = useRef(onClose);
  onCloseRef.current = onClose;

  useEffect(() => {
    const previous = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    openCount += 1;
    setAppHidden(true);
    const panel = panelRef.current;
    const first =
      (initialFocus === undefined ? null : panel?.querySelector<HTMLElement>(initialFocus)) ??
      panel?.querySelector<HTMLElement>('input, textarea, select') ??
      panel?.querySelector<HTMLElement>(FOCUSABLE);
    (first ?? panel)?.focus();
    return () => {
      openCount -= 1;
      if (openCount === 0) setAppHidden(false);
      // Give focus back unless something else (say the composer of a newly opened chat) took it.
      const active = document.activeElement;
      if (previous?.isConnected && (active === null || active === document.body)) previous.focus();
    };
    // Runs once per opening: the initial focus must not jump while the user types.
  }, []);

  function onKeyDown(event: KeyboardEvent<HTMLDivElement>) {
    if (event.key === 'Escape') {
      event.preventDefault();
      event.stopPropagation();
      onCloseRef.current();
      return;
    }
    if (event.key !== 'Tab') return;
    const panel = panelRef.current;
    if (panel === null) return;
    const focusable = [...panel.querySelectorAll<HTMLElement>(FOCUSABLE)].filter(
      (el) => el.offsetParent !== null || el === document.activeElement,
    );
    const first = focusable[0];
    const last = focusable.at(-1);
    if (first === undefined || last === undefined) {
      event.preventDefault();
      return;
    }
    if (event.shiftKey && (document.activeElement === first || document.activeElement === panel)) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  }

  const host = document.getElementById('dialogs') ?? document.body;
  return createPortal(
    <div
      className="dialog-backdrop"
      onMouseDown={(event) => {
        if (event.target === event.currentTarget) onCloseRef.current();
      }}
    >
      <div
        ref={panelRef}
        className={`dialog ${className}`}
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        aria-describedby={description === undefined ? undefined : descriptionId}
        tabIndex={-1}
        onKeyDown={onKeyDown}
      >
        <header className="dialog-head">
          <h2 id={titleId} className="dialog-title">
            {title}
          </h2>
          <IconButton
            label="Close"
            title="Close (Esc)"
            className="dialog-close"
            onClick={() => onCloseRef.current()}
          >
            <CloseIcon />
          </IconButton>
        </header>
        {description === undefined ? null : (
          <p id={descriptionId} className="dialog-description">
            {description}
          </p>
        )}
        {children}
      </div>
    </div>,
    host,
  );
}
