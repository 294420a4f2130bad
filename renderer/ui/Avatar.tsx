import { colorSlot, initials } from './avatar.js';

/** Initials on a colour chosen from the user's id; decorative (the name is always next to it). */
export function Avatar({
  userId,
  name,
  size = 'md',
}: {
  userId: string;
  name: string;
  size?: 'sm' | 'md' | 'lg';
}) {
  return (
    <span className={`avatar avatar-${size} avatar-c${colorSlot(userId)}`} aria-hidden="true">
      {initials(name)}
    </span>
  );
}

/** A presence dot. Labelled ("online"/"offline") where it is the only sign of presence. */
export function PresenceDot({ online, labelled = false }: { online: boolean; labelled?: boolean }) {
  const className = `presence-dot ${online ? 'is-online' : 'is-offline'}`;
  return labelled ? (
    <span className={className} role="img" aria-label={online ? 'online' : 'offline'} />
  ) : (
    <span className={className} aria-hidden="true" />
  );
}
