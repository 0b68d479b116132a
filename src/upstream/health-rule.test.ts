import { describe, expect, test } from "bun:test";
import { HealthWindow, shouldPause, type HealthRule, type RecentCalls } from "./health-rule.ts";

const RULE: HealthRule = { pauseAfterFailures: 5, pauseFailureSpanMs: 5000, pauseFailurePercent: 80, healthMinCalls: 10, healthWindowMs: 30_000 };
const NOW = 1_000_000;

describe("the health rule", () => {
  const cases: [string, RecentCalls, boolean][] = [
    ["five failures within milliseconds (one bad second, many callers)", { calls: 5, failures: 5, inARow: 5, failingSince: NOW - 20 }, false],
    ["five failures in a row over five seconds (an outage)", { calls: 5, failures: 5, inARow: 5, failingSince: NOW - 5000 }, true],
    ["four failures in a row over a minute", { calls: 4, failures: 4, inARow: 4, failingSince: NOW - 60_000 }, false],
    ["a flapping upstream: half of 40 calls failed", { calls: 40, failures: 20, inARow: 1, failingSince: NOW }, false],
    ["most calls fail: 8 of 10", { calls: 10, failures: 8, inARow: 2, failingSince: NOW - 10 }, true],
    ["every call fails, but only 9 so far in the window", { calls: 9, failures: 9, inARow: 9, failingSince: NOW - 100 }, false],
    ["every call of a burst of 24 fails", { calls: 24, failures: 24, inARow: 24, failingSince: NOW - 50 }, true],
    ["79 % of 100 calls failed", { calls: 100, failures: 79, inARow: 3, failingSince: NOW - 10 }, false],
  ];
  for (const [name, recent, paused] of cases) test(`${name}: ${paused ? "paused" : "not paused"}`, () => expect(shouldPause(RULE, recent, NOW)).toBe(paused));
});

describe("the window of recent calls", () => {
  test("counts calls within the window, forgets older ones, and times a run of failures from its first", () => {
    const window = new HealthWindow(30_000);
    for (let i = 0; i < 10; i++) window.record("c", false, NOW + i);
    expect(window.record("c", false, NOW + 2000)).toEqual({ calls: 11, failures: 11, inARow: 11, failingSince: NOW });
    expect(window.record("c", true, NOW + 40_000)).toEqual({ calls: 1, failures: 0, inARow: 0, failingSince: null });
    expect(window.record("c", false, NOW + 41_000)).toEqual({ calls: 2, failures: 1, inARow: 1, failingSince: NOW + 41_000 });
    expect(window.record("other", true, NOW)).toEqual({ calls: 1, failures: 0, inARow: 0, failingSince: null });
  });
});
