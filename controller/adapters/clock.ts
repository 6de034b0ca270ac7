import type { Clock } from "../ports.js";

/** The system clock: `Date.now()` and `setInterval`. */
export function systemClock(): Clock {
  return {
    now: () => Date.now(),
    every: (ms, fn) => {
      const timer = setInterval(fn, ms);
      return () => clearInterval(timer);
    },
  };
}
