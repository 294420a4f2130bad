/**
 * The rows of the message list: day separators and messages (with own-message state, "(edited)",
 * tombstones of deleted messages, the actions menu and the inline editor of one's own).
 */
import { memo, useState, type MouseEvent } from 'react';
import { isPermanentSendError } from '../../relay/protocol/message-content.js';
import type { EditingMessage } from '../state/store.js';
import type { UiMessage } from '../state/types.js';
import { Avatar } from './Avatar.js';
import { canChange, editedLabel, isDeleted } from './message-changes.js';
import type { MentionIndex } from './message-text.js';
import { MessageEditor } from './MessageEditor.js';
import { MessageMenu, type MessageMenuItem } from './MessageMenu.js';
import { MessageText } from './MessageText.js';
import { dayLabel, formatDateTime, formatTime } from './time-format.js';

export const DaySeparator = memo(function DaySeparator({ at }: { at: number }) {
  const label = dayLabel(at, Date.now());
  return (
    <div className="day-sep" role="separator" aria-label={label.name}>
      <span className="day-sep-label">{label.short}</span>
    </div>
  );
});

export interface MessageActions {
  /** Sends a failed message again (offered only when sending again can succeed). */
  retry(mobileRefId: string): void;
  /** Puts a failed message's text back into the composer and removes the message. */
  edit(mobileRefId: string, content: string): void;
  discard(mobileRefId: string): void;
  /** Opens the sender's profile card beside `anchor` (their name or avatar). */
  showProfile(userId: string, name: string, anchor: HTMLElement): void;
  /** Opens one of our messages in the inline editor. */
  startEdit(message: UiMessage): void;
  /** The editor's text changed. */
  editText(text: string): void;
  /** Saves the edit; returns why it was not saved, or null once it was (the editor closes). */
  saveEdit(message: UiMessage, text: string): string | null;
  cancelEdit(): void;
  /** Asks whether to delete one of our messages ("Delete message?"). */
  confirmDelete(message: UiMessage): void;
}

export const MessageItem = memo(function MessageItem({
  message,
  continued,
  own,
  mentions,
  myId,
  offline,
  editing,
  actions,
}: {
  message: UiMessage;
  continued: boolean;
  own: boolean;
  mentions: MentionIndex;
  myId: string | null;
  offline: boolean;
  /** This message's edit in progress, or null (null for every other row). */
  editing: EditingMessage | null;
  actions: MessageActions;
}) {
  const [menuOpen, setMenuOpen] = useState(false);
  const deleted = isDeleted(message);
  const changeable = canChange(message, myId);
  const edited = deleted ? null : editedLabel(message.edited_at);
  const menuItems: MessageMenuItem[] = [
    { label: 'Edit', onSelect: () => actions.startEdit(message) },
    { label: 'Delete', danger: true, onSelect: () => actions.confirmDelete(message) },
  ];
  // Right-click opens the same menu as the button (only where there is one).
  const onContextMenu = (event: MouseEvent) => {
    if (!changeable || editing !== null) return;
    event.preventDefault();
    setMenuOpen(true);
  };
  const at = Date.parse(message.timestamp);
  const time = Number.isNaN(at) ? '' : formatTime(at);
  const full = Number.isNaN(at) ? '' : formatDateTime(at);
  const classes = [
    'msg',
    continued ? 'is-continued' : 'is-first',
    own ? 'is-own' : '',
    `is-${message.status}`,
    deleted ? 'is-deleted' : '',
    editing === null ? '' : 'is-editing',
  ]
    .filter(Boolean)
    .join(' ');
  /** A failure that sending again cannot fix: the text goes back to the composer instead. */
  const permanentFailure = isPermanentSendError(message.errorCode ?? '');

  return (
    <article
      className={classes}
      data-status={message.status}
      data-deleted={deleted ? 'true' : undefined}
      onContextMenu={onContextMenu}
    >
      <div className="msg-gutter">
        {continued ? (
          <time className="msg-time msg-time-hover" dateTime={message.timestamp} title={full}>
            {time}
          </time>
        ) : (
          // The name beside it is the keyboard's way to the same card: the avatar is a second,
          // pointer-only target, kept out of the tab order and the accessibility tree.
          <button
            type="button"
            className="msg-avatar-button"
            tabIndex={-1}
            aria-hidden="true"
            onClick={(event) =>
              actions.showProfile(message.sender_id, message.sender_name, event.currentTarget)
            }
          >
            <Avatar userId={message.sender_id} name={message.sender_name} />
          </button>
        )}
      </div>
      <div className="msg-body">
        {continued ? (
          <span className="sr-only">{message.sender_name} </span>
        ) : (
          <div className="msg-meta">
            <button
              type="button"
              className="msg-sender"
              aria-haspopup="dialog"
              onClick={(event) =>
                actions.showProfile(message.sender_id, message.sender_name, event.currentTarget)
              }
            >
              {message.sender_name}
            </button>
            <time className="msg-time" dateTime={message.timestamp} title={full}>
              {time}
            </time>
          </div>
        )}
        {deleted ? (
          // A tombstone: no text (there is none left), no actions.
          <div className="msg-text msg-tombstone">message deleted</div>
        ) : editing !== null ? (
          <MessageEditor
            text={editing.text}
            onChange={actions.editText}
            onSave={(text) => actions.saveEdit(message, text)}
            onCancel={actions.cancelEdit}
          />
        ) : (
          <div className="msg-text">
            <MessageText content={message.content} mentions={mentions} myId={myId} />
            {edited === null ? null : (
              <span className="msg-edited" title={edited}>
                {' '}
                <span aria-hidden="true">(edited)</span>
                <span className="sr-only">({edited})</span>
              </span>
            )}
          </div>
        )}
        {message.status === 'pending' ? (
          <div className="msg-state">{offline ? 'Waiting for connection…' : 'Sending…'}</div>
        ) : null}
        {message.status === 'failed' ? (
          <div className="msg-state msg-failed">
            <span className="msg-failed-label">Failed</span>
            {message.error === undefined ? null : (
              <span className="msg-failed-reason">{message.error}</span>
            )}
            {/* Retry only where sending again can succeed; otherwise the text goes back to the
                composer to be changed. */}
            <button
              type="button"
              className="link-button"
              onClick={() =>
                permanentFailure
                  ? actions.edit(message.mobile_ref_id, message.content)
                  : actions.retry(message.mobile_ref_id)
              }
            >
              {permanentFailure ? 'Edit' : 'Retry'}
            </button>
            <button
              type="button"
              className="link-button subtle"
              onClick={() => actions.discard(message.mobile_ref_id)}
            >
              Delete
            </button>
          </div>
        ) : null}
      </div>
      {changeable && editing === null ? (
        <MessageMenu open={menuOpen} onOpenChange={setMenuOpen} items={menuItems} />
      ) : null}
    </article>
  );
});
