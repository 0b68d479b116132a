import type { Clock } from "../../src/clock.ts";

/**
 * The system clock plus an offset the test moves forward. Time keeps flowing (timestamps written
 * by code without a clock stay comparable), and a test passes a deadline by advancing, not sleeping.
 */
export type TestClock = {
  now: Clock;
  /** Moves this clock `ms` into the future, at once. */
  advance(ms: number): void;
  /** Moves this clock just past `at` (a deadline the gateway wrote), or leaves it when it is there already. */
  advancePast(at: number): void;
};

export function createTestClock(): TestClock {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    advance(ms) {
      offset += ms;
    },
    advancePast(at) {
      offset += Math.max(0, at + 1 - (Date.now() + offset));
    },
  };
}
