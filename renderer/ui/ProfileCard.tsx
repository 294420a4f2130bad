/**
 * A person's card, opened by clicking a sender's name or avatar in the message list: avatar,
 * name, whether they are online, and "Message" (opens the DM with them, creating it if needed).
 * A non-modal popover (role dialog named after the person) placed beside what was clicked: Esc,
 * a click elsewhere or the clicked row scrolling out of the list closes it, and focus goes back
 * to the name. The relay knows no more of a person (no local time zone, no title), so it shows
 * no more.
 */
import { useEffect, useId, useLayoutEffect, useRef, useState } from 'react';
import { createPortal } from 'react-dom';
import { onlineUserIds } from '../state/selectors.js';
import { Avatar, PresenceDot } from './Avatar.js';
import { MessageIcon } from './Icons.js';
import { useClient, useParley } from './parley-context.js';

export interface ProfileTarget {
  userId: string;
  name: string;
  /** The name or avatar that was clicked: the card sits beside it. */
  anchor: HTMLElement;
}

/** Space kept between the card and the window's edges, and between the card and its anchor. */
const MARGIN_PX = 8;

export function ProfileCard({ target, onClose }: { target: ProfileTarget; onClose: () => void }) {
  const client = useClient();
  const cardRef = useRef<HTMLDivElement>(null);
  const titleId = useId();
  const known = useParley((s) => s.users[target.userId]?.name);
  const name = known ?? target.name;
  const me = useParley((s) => s.me?.id === target.userId);
  const online = useParley((s) => s.status === 'online' && onlineUserIds(s).has(target.userId));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const onCloseRef = useRef(onClose);
  onCloseRef.current = onClose;

  // Beside the anchor (below it, or above when there is no room), inside the window; moved by
  // the CSSOM, which the page's CSP allows (no style attribute).
  useLayoutEffect(() => {
    const card = cardRef.current;
    if (card === null) return;
    const place = () => {
      if (!target.anchor.isConnected) {
        onCloseRef.current();
        return;
      }
      const at = target.anchor.getBoundingClientRect();
      const { offsetWidth: width, offsetHeight: height } = card;
      const below = at.bottom + MARGIN_PX;
      const top =
        below + height + MARGIN_PX <= window.innerHeight
          ? below
          : Math.max(MARGIN_PX, at.top - MARGIN_PX - height);
      const left = Math.min(Math.max(MARGIN_PX, at.left), window.innerWidth - width - MARGIN_PX);
      card.style.top = `${Math.round(top)}px`;
      card.style.left = `${Math.round(Math.max(MARGIN_PX, left))}px`;
    };
    place();
    window.addEventListener('resize', place);
    // Capture: the message list scrolls inside its own element.
    window.addEventListener('scroll', place, true);
    return () => {
      window.removeEventListener('resize', place);
      window.removeEventListener('scroll', place, true);
    };
  }, [target.anchor]);

  // Focus moves into the card; closing gives it back to the name that opened it.
  useEffect(() => {
    const card = cardRef.current;
    const anchor = target.anchor;
    (card?.querySelector<HTMLElement>('button.profile-message') ?? card)?.focus();
    const onPointerDown = (event: PointerEvent) => {
      const node = event.target;
      if (!(node instanceof Node)) return;
      if (card?.contains(node) === true || anchor.contains(node)) return;
      onCloseRef.current();
    };
    document.addEventListener('pointerdown', onPointerDown, true);
    return () => {
      document.removeEventListener('pointerdown', onPointerDown, true);
      const active = document.activeElement;
      const focusWasInside = active === null || active === document.body || card?.contains(active);
      if (focusWasInside === true && anchor.isConnected) anchor.focus();
    };
  }, [target.anchor]);

  async function message() {
    setBusy(true);
    setError(null);
    const opened = await client.startDm(target.userId);
    setBusy(false);
    if (opened.ok) onCloseRef.current();
    else
      setError(
        opened.message === '' ? `Could not open the chat (${opened.code}).` : opened.message,
      );
  }

  return createPortal(
    <div
      ref={cardRef}
      className="profile-card"
      role="dialog"
      aria-labelledby={titleId}
      tabIndex={-1}
      onKeyDown={(event) => {
        if (event.key === 'Escape') {
          event.preventDefault();
          event.stopPropagation();
          onCloseRef.current();
        }
      }}
      onBlur={(event) => {
        // Tabbing out of the card closes it, like a menu.
        const next = event.relatedTarget;
        if (next instanceof Node && !event.currentTarget.contains(next)) onCloseRef.current();
      }}
    >
      <div className="profile-card-head">
        <span className="profile-card-avatar">
          <Avatar userId={target.userId} name={name} size="lg" />
          <PresenceDot online={online} />
        </span>
        <div className="profile-card-who">
          <h2 id={titleId} className="profile-card-name">
            {name}
          </h2>
          <p className="profile-card-presence">
            {online ? 'Online' : 'Offline'}
            {me ? ' · This is you' : ''}
          </p>
        </div>
      </div>
      {error === null ? null : (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {me ? null : (
        <button
          type="button"
          className="button primary wide profile-message"
          disabled={busy}
          onClick={() => void message()}
        >
          <MessageIcon />
          {busy ? 'Opening…' : 'Message'}
        </button>
      )}
    </div>,
    document.getElementById('dialogs') ?? document.body,
  );
}
