import { expect, test } from "bun:test";
import { HeldCalls, type Holdable } from "./held-calls.ts";

function holdable(): Holdable & { cancelled: string[] } {
  const cancelled: string[] = [];
  return { id: crypto.randomUUID(), cancelled, cancel: (reason) => void cancelled.push(reason) };
}

test("a caller holds at most its share of calls, and the gateway at most its total", () => {
  const held = new HeldCalls({ perHolder: 2, total: 3, waitMs: 60_000 });
  expect(held.hold(holdable(), "key-a")).toBe(true);
  expect(held.hold(holdable(), "key-a")).toBe(true);
  expect(held.hold(holdable(), "key-a")).toBe(false);
  expect(held.hold(holdable(), "key-b")).toBe(true);
  expect(held.hold(holdable(), "key-c")).toBe(false);
  held.cancelAll("done");
  expect(held.size).toBe(0);
});

test("only the caller that was asked takes a held call back; holding it again does not count twice", () => {
  const held = new HeldCalls({ perHolder: 1, total: 10, waitMs: 60_000 });
  const call = holdable();
  expect(held.hold(call, "key-a")).toBe(true);
  expect(held.take(call.id, "key-b")).toBeNull();
  expect(held.take(call.id, "key-a")).toBe(call);
  expect(held.hold(call, "key-a")).toBe(true);
  held.release(call.id);
  expect(held.take(call.id, "key-a")).toBeNull();
  expect(call.cancelled).toEqual([]);
});

test("a call whose client does not come back is cancelled and forgotten", async () => {
  const held = new HeldCalls({ perHolder: 1, total: 10, waitMs: 20 });
  const call = holdable();
  held.hold(call, "key-a");
  const { promise, resolve } = Promise.withResolvers<void>();
  const cancel = call.cancel;
  call.cancel = (reason) => {
    cancel(reason);
    resolve();
  };
  await promise;
  expect(call.cancelled).toEqual(["the client did not answer within 0 s"]);
  expect(held.size).toBe(0);
});
