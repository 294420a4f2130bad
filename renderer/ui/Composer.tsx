/**
 * The message box: Enter sends, Shift+Enter adds a newline (and nothing sends while an input
 * method is composing). Typing is reported to the client, which throttles it and stops it on
 * idle or send. Nothing typed is lost: the draft stays with its chat when switching chats and
 * across a reload (drafts.ts), a message over the relay's length limit is refused here with the
 * text kept (a counter shows from 90 % of the limit, composer-limit.ts), and when the outbox is
 * full the message is kept here with a note saying why. Focus lands here when a chat opens, and
 * when a failed message's "Edit" puts its text back. ↑ in the empty composer opens one's last
 * message in this chat for editing (MessageEditor.tsx).
 */
import {
  useEffect,
  useId,
  useLayoutEffect,
  useRef,
  useState,
  type FormEvent,
  type KeyboardEvent,
} from 'react';
import { OUTBOX_LIMIT } from '../net/outbox.js';
import { chatTitle } from '../state/selectors.js';
import { lastEditable } from '../state/timeline.js';
import { roomLabel } from './chat-text.js';
import {
  composerLength,
  counterAnnouncement,
  counterText,
  tooLongReason,
} from './composer-limit.js';
import { SendIcon } from './Icons.js';
import { useClient, useParley, useServices } from './parley-context.js';
import { useDraft, useDrafts } from './use-drafts.js';

/** The length is announced once typing pauses this long, not on every key. */
const ANNOUNCE_DELAY_MS = 700;

export function Composer({ chatId }: { chatId: string }) {
  const client = useClient();
  const { store } = useServices();
  const placeholder = useParley((s) => {
    const chat = s.chats[chatId];
    if (chat === undefined) return 'Message';
    return `Message ${chat.kind === 'room' ? roomLabel(chat, chat.name) : chatTitle(s, chat)}`;
  });
  const dialogOpen = useParley((s) => s.dialog !== null);
  const drafts = useDrafts();
  const text = useDraft(drafts, chatId);
  const [problem, setProblem] = useState<string | null>(null);
  const inputRef = useRef<HTMLTextAreaElement>(null);
  const caretToEnd = useRef(false);
  const problemId = useId();
  const counterId = useId();
  const length = composerLength(text);
  const announcement = useDelayedAnnouncement(counterAnnouncement(length));

  useEffect(() => {
    if (!dialogOpen) inputRef.current?.focus();
    // Only when the chat opens: later dialogs return focus where it was on their own.
  }, [chatId]);

  // A failed message's "Edit" puts its text here: take focus, caret after the text.
  useEffect(
    () =>
      drafts.onRestore((id) => {
        if (id !== chatId) return;
        caretToEnd.current = true;
        setProblem(null);
        inputRef.current?.focus();
      }),
    [drafts, chatId],
  );
  useLayoutEffect(() => {
    const input = inputRef.current;
    if (!caretToEnd.current || input === null) return;
    caretToEnd.current = false;
    input.setSelectionRange(input.value.length, input.value.length);
    input.scrollTop = input.scrollHeight;
  }, [text]);

  function change(value: string) {
    drafts.set(chatId, value);
    setProblem(null);
    if (value.trim() === '') client.stopTyping(chatId);
    else client.composing(chatId);
  }

  function send() {
    // Refused here, text kept: the relay would refuse it for good.
    if (length.over > 0) {
      setProblem(tooLongReason(length));
      return;
    }
    const result = client.send(chatId, text);
    if (result.ok) {
      drafts.set(chatId, '');
      setProblem(null);
      return;
    }
    if (result.code === 'too_long') {
      setProblem(tooLongReason(length));
    } else if (result.code === 'outbox_full') {
      setProblem(
        `Not sent: ${OUTBOX_LIMIT} messages are already waiting for the connection. Your message is kept here; send it once you are back online.`,
      );
    } else if (result.code === 'no_chat') {
      setProblem('This chat is no longer available.');
    }
  }

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    send();
    inputRef.current?.focus();
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key === 'ArrowUp' && text === '' && !hasModifier(event)) {
      // ↑ in an empty composer edits one's last message in this chat, as in Slack.
      const state = store.getState();
      const timeline = state.timelines[chatId];
      const last = timeline === undefined ? null : lastEditable(timeline, state.me?.id ?? null);
      if (last !== null) {
        event.preventDefault();
        state.actions.setEditing({ chatId, mobileRefId: last.mobile_ref_id, text: last.content });
      }
      return;
    }
    if (event.key !== 'Enter' || event.shiftKey || event.altKey) return;
    if (event.nativeEvent.isComposing || event.keyCode === 229) return;
    event.preventDefault();
    send();
  }

  const empty = text.trim() === '';
  const over = length.over > 0;
  const describedBy = [problem === null ? null : problemId, length.visible ? counterId : null]
    .filter((id) => id !== null)
    .join(' ');
  return (
    <form className="composer-form" onSubmit={onSubmit}>
      {problem === null ? null : (
        <div id={problemId} className="composer-problem" role="alert">
          {problem}
        </div>
      )}
      <div className={`composer${empty ? ' is-empty' : ''}${over ? ' is-over' : ''}`}>
        <textarea
          ref={inputRef}
          className="composer-input"
          aria-label="Message"
          aria-describedby={describedBy === '' ? undefined : describedBy}
          aria-invalid={over ? true : undefined}
          placeholder={placeholder}
          rows={1}
          value={text}
          onChange={(e) => change(e.target.value)}
          onKeyDown={onKeyDown}
          onBlur={() => {
            if (text.trim() === '') client.stopTyping(chatId);
          }}
        />
        <button
          type="submit"
          className="send-button"
          aria-label="Send"
          title={over ? 'Too long to send' : 'Send (Enter)'}
          aria-disabled={empty || over}
        >
          <SendIcon />
        </button>
      </div>
      {length.visible ? (
        <p id={counterId} className={`composer-counter${over ? ' is-over' : ''}`}>
          <span className="sr-only">Length: </span>
          {counterText(length)}
        </p>
      ) : (
        <p className="composer-hint" aria-hidden="true">
          <kbd>Enter</kbd> to send · <kbd>Shift</kbd>+<kbd>Enter</kbd> for a new line
        </p>
      )}
      <p className="sr-only" role="status" aria-live="polite" aria-label="Message length">
        {announcement}
      </p>
    </form>
  );
}

function hasModifier(event: KeyboardEvent): boolean {
  return event.shiftKey || event.altKey || event.ctrlKey || event.metaKey;
}

/** `text`, once it has stayed the same for ANNOUNCE_DELAY_MS (for a polite live region). */
function useDelayedAnnouncement(text: string): string {
  const [announced, setAnnounced] = useState('');
  useEffect(() => {
    const timer = setTimeout(() => setAnnounced(text), ANNOUNCE_DELAY_MS);
    return () => clearTimeout(timer);
  }, [text]);
  return announced;
}
