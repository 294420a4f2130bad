import type { ReactNode } from 'react';

interface IconButtonProps {
  /** What the button does, read by screen readers (aria-label). */
  label: string;
  /** The tooltip; the label when not given. */
  title?: string;
  small?: boolean;
  /** Extra classes after `icon-button`. */
  className?: string;
  onClick: () => void;
  /** The icon (an svg from Icons.tsx). */
  children: ReactNode;
}

/** A button that shows only an icon: the label says what it does, the title shows it on hover. */
export function IconButton({
  label,
  title = label,
  small = false,
  className,
  onClick,
  children,
}: IconButtonProps) {
  const classes = ['icon-button', small ? 'small' : null, className ?? null].filter(Boolean);
  return (
    <button
      type="button"
      className={classes.join(' ')}
      aria-label={label}
      title={title}
      onClick={onClick}
    >
      {children}
    </button>
  );
}
