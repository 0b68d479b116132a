import { expect, test } from "bun:test";
import { createRateLimiter } from "./rate-limit.ts";

test("a client over the limit waits for its window; others are not affected", () => {
  const limiter = createRateLimiter({ limit: 2, windowMs: 60_000 });
  expect(limiter.take("a", 0)).toEqual({ ok: true });
  expect(limiter.take("a", 1_000)).toEqual({ ok: true });
  expect(limiter.take("a", 2_000)).toEqual({ ok: false, retryAfterSeconds: 58 });
  expect(limiter.take("b", 2_000)).toEqual({ ok: true });
  expect(limiter.take("a", 60_000)).toEqual({ ok: true });
});
