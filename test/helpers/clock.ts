import type { Clock } from "../../src/clock.ts";

/**
 * The system clock plus an offset the test moves forward. Time keeps flowing (timestamps written
 * by code without a clock stay comparable), and a test passes a deadline by advancing, not sleeping.
 */
export type TestClock = {
  now: Clock;
  /** Moves this clock `ms` into the future, at once. */
  advance(ms: number): void;
};

export function createTestClock(): TestClock {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    advance(ms) {
      offset += ms;
    },
  };
}
