import { describe, expect, test } from "bun:test";
import type { ConnectionMeta } from "../connections/types.ts";
import { pauseDurationMs, unavailableReason } from "./health.ts";

const config = { pauseAfterFailures: 3, pauseFirstMs: 30_000, pauseMaxMs: 15 * 60_000 };

describe("pause durations: the first window, doubled by every failed probe, capped", () => {
  const cases: [number, number][] = [
    [0, 30_000], // asked early (before the threshold): still the first window
    [3, 30_000], // just paused
    [4, 60_000], // one failed probe
    [5, 120_000],
    [6, 240_000],
    [7, 480_000],
    [8, 900_000], // capped
    [50, 900_000],
    [10_000, 900_000], // no overflow however long it stays down
  ];
  test.each(cases)("%i failures in a row → %i ms", (failures, expected) => {
    expect(pauseDurationMs(config, failures)).toBe(expected);
  });

  test("a cap below the first window wins", () => {
    expect(pauseDurationMs({ pauseAfterFailures: 3, pauseFirstMs: 400, pauseMaxMs: 300 }, 3)).toBe(300);
  });
});

describe("why a call cannot be tried now", () => {
  const now = Date.parse("2026-01-01T00:00:00Z");
  const connection = (fields: Partial<ConnectionMeta>): ConnectionMeta => ({ name: "linear", status: "connected", statusDetail: null, pausedUntil: null, ...fields }) as ConnectionMeta;
  const cases: [string, Partial<ConnectionMeta>, string | null][] = [
    ["connected: it can", { status: "connected" }, null],
    ["error: calls are still tried", { status: "error", statusDetail: "the server answered HTTP 500" }, null],
    [
      "needs re-auth, with the last error",
      { status: "needs_reauth", statusDetail: "the server refused the stored credential (401)" },
      "linear needs re-authorization in the gateway dashboard (last error: the server refused the stored credential (401)). Re-authorize it there, then call again.",
    ],
    ["needs re-auth, no detail", { status: "needs_reauth" }, "linear needs re-authorization in the gateway dashboard. Re-authorize it there, then call again."],
    [
      "paused, window still open: says when",
      { status: "paused", statusDetail: "the server answered HTTP 500", pausedUntil: now + 60_000 },
      "linear is paused after repeated failures (last error: the server answered HTTP 500). The gateway checks it again at 2026-01-01T00:01:00.000Z; an admin can also Retry now in the dashboard. Its tools work again once a check succeeds.",
    ],
    [
      "paused, window over: a check is due",
      { status: "paused", pausedUntil: now - 1 },
      "linear is paused after repeated failures. The gateway is checking it now; an admin can also Retry now in the dashboard. Its tools work again once a check succeeds.",
    ],
  ];
  test.each(cases)("%s", (_, fields, expected) => {
    expect(unavailableReason(connection(fields), now)).toBe(expected);
  });
});
