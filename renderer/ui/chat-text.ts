/**
 * What Parley says about a chat, by its kind: the intro at the top of its history and the
 * question before leaving it. A private room never claims "everyone" sees it; a vanishing room
 * says when messages go. Pure; unit-tested.
 */
import type { ChatState } from '../state/types.js';
import { formatDuration } from './vanish-time.js';

type ChatKindInfo = Pick<ChatState, 'kind' | 'visibility' | 'ephemeral_ttl_s' | 'is_main'>;

export interface ChatIntro {
  icon: 'hash' | 'lock' | 'person';
  title: string;
  /** Who can see the messages, then (vanishing rooms) when they go. */
  lines: string[];
}

/** A room's name as running text: "#name" for public rooms; private ones go by their name. */
export function roomLabel(chat: Pick<ChatState, 'visibility'>, name: string): string {
  return chat.visibility === 'private' ? name : `#${name}`;
}

function vanishLine(chat: ChatKindInfo): string[] {
  return chat.ephemeral_ttl_s === null
    ? []
    : [`Messages here vanish ${formatDuration(chat.ephemeral_ttl_s)} after they are sent.`];
}

/** `title` is the chat's title (the room's name, or the other person's for a DM). */
export function chatIntro(
  chat: ChatKindInfo,
  title: string,
  options: { selfDm?: boolean } = {},
): ChatIntro {
  if (chat.kind === 'dm') {
    return options.selfDm === true
      ? {
          icon: 'person',
          title: 'This is your own space.',
          lines: ['Only you can see these messages: notes, drafts, links to keep.'],
        }
      : {
          icon: 'person',
          title: `This is the beginning of your conversation with ${title}.`,
          lines: ['Only the two of you can see these messages.'],
        };
  }
  if (chat.visibility === 'private') {
    return {
      icon: 'lock',
      title: `This is the very beginning of the private room ${title}.`,
      lines: [
        'Only members can see what is posted here, and only a member can invite someone in.',
        ...vanishLine(chat),
      ],
    };
  }
  return {
    icon: 'hash',
    title: `This is the very beginning of #${title}.`,
    lines: [
      chat.is_main
        ? 'Everyone on this server is in this room and sees what is posted here.'
        : 'This room is public: anyone on this server can join it and read what is posted here.',
      ...vanishLine(chat),
    ],
  };
}

export interface LeaveRoomText {
  title: string;
  /** What leaving does, for everyone. */
  description: string;
  /** How to come back, which depends on the room. */
  comingBack: string;
}

export function leaveRoomText(chat: ChatKindInfo, name: string): LeaveRoomText {
  const label = roomLabel(chat, name);
  return {
    title: `Leave ${label}?`,
    description: `${label} goes from your list of chats: you stop receiving its messages and notifications, and nothing in it stays marked unread.`,
    comingBack:
      chat.visibility === 'private'
        ? 'It is a private room: to come back, you need a new invite (a member has to add you again).'
        : 'It is a public room: you can join it again at any time from "Browse rooms".',
  };
}
