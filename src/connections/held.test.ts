import { describe, expect, test } from "bun:test";
import { approvalAfterSync, describeHeld, heldReason, listedWhileHeld, type StoredBefore } from "./held.ts";

const enabled: StoredBefore = { enabled: true, hash: "h1", definition: { d: 1 }, approved: null, approvedHash: null, heldAt: null };

describe("approvalAfterSync", () => {
  test("the first change of an enabled item pins what was stored and holds it", () => {
    expect(approvalAfterSync(enabled, "h2", 100)).toEqual({ approved: { d: 1 }, approvedHash: "h1", heldAt: 100 });
  });
  test("a change again keeps the first pin and when the hold began", () => {
    const held = { ...enabled, hash: "h2", definition: { d: 2 }, approved: { d: 1 }, approvedHash: "h1", heldAt: 100 };
    expect(approvalAfterSync(held, "h3", 200)).toEqual({ approved: { d: 1 }, approvedHash: "h1", heldAt: 100 });
  });
  test("listed back as approved, the hold ends and the pin goes", () => {
    const held = { ...enabled, hash: "h2", definition: { d: 2 }, approved: { d: 1 }, approvedHash: "h1", heldAt: 100 };
    expect(approvalAfterSync(held, "h1", 200)).toEqual({ approved: null, approvedHash: null, heldAt: null });
  });
  test("an item that is off is never held, and keeps a rejected change's pin", () => {
    expect(approvalAfterSync({ ...enabled, enabled: false }, "h2", 100)).toEqual({ approved: null, approvedHash: null, heldAt: null });
    const rejected = { ...enabled, enabled: false, approved: { d: 1 }, approvedHash: "h1" };
    expect(approvalAfterSync(rejected, "h3", 100)).toEqual({ approved: { d: 1 }, approvedHash: "h1", heldAt: null });
  });
});

describe("what a held item shows", () => {
  const row = { enabled: true, approved: { v: "approved" }, approvedHash: "h1", heldAt: 1 };
  test("hidden, or the approved definition, never the listed one", () => {
    expect(listedWhileHeld({ v: "listed" }, row, "hide")).toBeNull();
    expect(listedWhileHeld({ v: "listed" }, row, "serve_approved")).toEqual({ v: "approved" });
    expect(listedWhileHeld({ v: "listed" }, { ...row, heldAt: null }, "hide")).toEqual({ v: "listed" });
    expect(listedWhileHeld({ v: "listed" }, { ...row, enabled: false }, "serve_approved")).toBeNull();
  });
  test("the sentences count what is held", () => {
    expect(describeHeld({ tools: 0, prompts: 0, resourceTemplates: 0 })).toBeNull();
    expect(describeHeld({ tools: 1, prompts: 0, resourceTemplates: 0 })).toBe("1 tool changed upstream");
    expect(describeHeld({ tools: 2, prompts: 1, resourceTemplates: 0 })).toBe("2 tools and 1 prompt changed upstream");
    expect(heldReason({ tools: 1, prompts: 0, resourceTemplates: 0 }, "linear", "serve_approved")).toBe(
      "1 tool changed upstream and is listed as approved, with calls refused until an admin reviews it in the dashboard (Connections → linear).",
    );
  });
});
