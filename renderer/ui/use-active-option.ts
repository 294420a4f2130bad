/**
 * The highlighted option of a listbox driven from a text box that keeps focus (quick switcher,
 * message search): ↑/↓ move it (wrapping), Enter opens it. The list exposes it through
 * aria-activedescendant with `optionId`.
 */
import { useId, useState, type KeyboardEvent } from 'react';

export interface ActiveOption {
  selected: number;
  setIndex: (index: number) => void;
  onKeyDown: (event: KeyboardEvent<HTMLInputElement>) => void;
  listId: string;
  optionId: (index: number) => string;
}

export function useActiveOption<T>(items: readonly T[], open: (item: T) => void): ActiveOption {
  const [index, setIndex] = useState(0);
  const listId = useId();
  const selected = Math.min(index, Math.max(0, items.length - 1));

  function onKeyDown(event: KeyboardEvent<HTMLInputElement>) {
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      const step = event.key === 'ArrowDown' ? 1 : -1;
      setIndex((selected + step + items.length) % Math.max(1, items.length));
    } else if (event.key === 'Enter') {
      event.preventDefault();
      const item = items[selected];
      if (item !== undefined) open(item);
    }
  }

  return {
    selected,
    setIndex,
    onKeyDown,
    listId,
    optionId: (i: number) => `${listId}-opt-${i}`,
  };
}
