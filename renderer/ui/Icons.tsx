/** Line icons (16 px grid, currentColor), always decorative: the control carries the name. */
import type { ReactNode } from 'react';

function Icon({ children, size = 16 }: { children: ReactNode; size?: number }) {
  return (
    <svg
      className="icon"
      width={size}
      height={size}
      viewBox="0 0 16 16"
      fill="none"
      stroke="currentColor"
      strokeWidth="1.5"
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden="true"
      focusable="false"
    >
      {children}
    </svg>
  );
}

export const HashIcon = () => (
  <Icon>
    <path d="M6 2.5 4.5 13.5M11.5 2.5 10 13.5M2.5 5.75h11M2 10.25h11" />
  </Icon>
);
export const LockIcon = () => (
  <Icon>
    <rect x="3" y="7" width="10" height="7" rx="1.5" />
    <path d="M5.5 7V5a2.5 2.5 0 0 1 5 0v2" />
  </Icon>
);
export const PlusIcon = () => (
  <Icon>
    <path d="M8 3v10M3 8h10" />
  </Icon>
);
export const ComposeIcon = () => (
  <Icon>
    <path d="M13.5 8.5V13a1 1 0 0 1-1 1H3a1 1 0 0 1-1-1V3.5a1 1 0 0 1 1-1h4.5" />
    <path d="M11.8 1.8a1.3 1.3 0 0 1 1.9 1.9L8.2 9.2 6 9.8l.6-2.2z" />
  </Icon>
);
export const SearchIcon = () => (
  <Icon>
    <circle cx="7" cy="7" r="4.5" />
    <path d="m10.5 10.5 3 3" />
  </Icon>
);
export const CompassIcon = () => (
  <Icon>
    <circle cx="8" cy="8" r="6" />
    <path d="m10.5 5.5-1.6 3.4-3.4 1.6 1.6-3.4z" />
  </Icon>
);
export const SendIcon = () => (
  <Icon>
    <path d="M2.5 8 13.5 2.5 11 13.5 7.5 9z" />
    <path d="M7.5 9 13.5 2.5" />
  </Icon>
);
export const TimerIcon = () => (
  <Icon>
    <circle cx="8" cy="9" r="5" />
    <path d="M8 6.5V9l1.5 1.5M6.5 1.5h3" />
  </Icon>
);
export const SignOutIcon = () => (
  <Icon>
    <path d="M6 14H3.5a1 1 0 0 1-1-1V3a1 1 0 0 1 1-1H6M10.5 11 13.5 8l-3-3M13.5 8H6" />
  </Icon>
);
export const UserPlusIcon = () => (
  <Icon>
    <circle cx="6" cy="5.5" r="2.5" />
    <path d="M1.5 13.5a4.5 4.5 0 0 1 9 0M12.5 5v4M10.5 7h4" />
  </Icon>
);
export const LeaveIcon = () => (
  <Icon>
    <path d="M9.5 2.5H12a1 1 0 0 1 1 1v9a1 1 0 0 1-1 1H9.5M6 11 3 8l3-3M3 8h7.5" />
  </Icon>
);
export const ArrowDownIcon = () => (
  <Icon>
    <path d="M8 3v10M4 9l4 4 4-4" />
  </Icon>
);
export const AlertIcon = () => (
  <Icon>
    <path d="M8 1.8 14.5 13.5h-13z" />
    <path d="M8 6.5v3M8 11.5v.01" />
  </Icon>
);
export const BellIcon = () => (
  <Icon>
    <path d="M4 7a4 4 0 0 1 8 0c0 3.5 1.5 4.5 1.5 4.5h-11S4 10.5 4 7M6.5 13.5a1.5 1.5 0 0 0 3 0" />
  </Icon>
);
export const MenuIcon = () => (
  <Icon>
    <path d="M2.5 4h11M2.5 8h11M2.5 12h11" />
  </Icon>
);
export const CloseIcon = () => (
  <Icon>
    <path d="m4 4 8 8M12 4l-8 8" />
  </Icon>
);
export const ServerIcon = () => (
  <Icon>
    <rect x="2.5" y="2.5" width="11" height="4.5" rx="1" />
    <rect x="2.5" y="9" width="11" height="4.5" rx="1" />
    <path d="M5 4.75h.01M5 11.25h.01" />
  </Icon>
);
export const ShieldIcon = () => (
  <Icon>
    <path d="M8 1.75 13 3.75v4c0 3-2.2 5.2-5 6.5-2.8-1.3-5-3.5-5-6.5v-4Z" />
    <path d="m5.75 8 1.6 1.6 2.9-3.1" />
  </Icon>
);
export const BroadcastIcon = () => (
  <Icon>
    <circle cx="8" cy="8" r="1.5" />
    <path d="M5.2 10.8a4 4 0 0 1 0-5.6M10.8 5.2a4 4 0 0 1 0 5.6M3.1 12.9a7 7 0 0 1 0-9.8M12.9 3.1a7 7 0 0 1 0 9.8" />
  </Icon>
);
export const CopyIcon = () => (
  <Icon>
    <rect x="5.5" y="5.5" width="8" height="8" rx="1.5" />
    <path d="M10.5 5.5V4a1.5 1.5 0 0 0-1.5-1.5H4A1.5 1.5 0 0 0 2.5 4v5A1.5 1.5 0 0 0 4 10.5h1.5" />
  </Icon>
);

/** The Parley mark: a speech bubble on the accent colour. */
export const MessageIcon = () => (
  <Icon>
    <path d="M2.5 3.5a1 1 0 0 1 1-1h9a1 1 0 0 1 1 1v6.5a1 1 0 0 1-1 1H7l-3 2.5v-2.5h-.5a1 1 0 0 1-1-1z" />
  </Icon>
);
export const PeopleIcon = () => (
  <Icon>
    <circle cx="6" cy="5.5" r="2.5" />
    <path d="M1.5 13.5c.4-2.3 2.2-3.8 4.5-3.8s4.1 1.5 4.5 3.8M10.5 3.2a2.5 2.5 0 0 1 0 4.6M12 9.9c1.3.5 2.2 1.8 2.5 3.6" />
  </Icon>
);
export const LogoMark = ({ size = 28 }: { size?: number }) => (
  <svg
    className="logo-mark"
    width={size}
    height={size}
    viewBox="0 0 32 32"
    aria-hidden="true"
    focusable="false"
  >
    <rect width="32" height="32" rx="8" className="logo-bg" />
    <path
      className="logo-fg"
      d="M9 10.5A3.5 3.5 0 0 1 12.5 7h7A3.5 3.5 0 0 1 23 10.5v5a3.5 3.5 0 0 1-3.5 3.5H15l-4.2 3.6c-.5.4-1.3.1-1.3-.6V19A3.5 3.5 0 0 1 9 15.5z"
    />
  </svg>
);
export const KeyIcon = () => (
  <Icon>
    <circle cx="5" cy="10.5" r="2.75" />
    <path d="M7 8.5 13 2.5M10.5 5l2 2M12 3.5l1.5 1.5" />
  </Icon>
);
export const MoreIcon = () => (
  <Icon>
    <circle cx="3.5" cy="8" r="0.9" fill="currentColor" />
    <circle cx="8" cy="8" r="0.9" fill="currentColor" />
    <circle cx="12.5" cy="8" r="0.9" fill="currentColor" />
  </Icon>
);
