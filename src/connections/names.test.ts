import { describe, expect, test } from "bun:test";
import { checkConnectionName, checkToolAlias, exposeToolName, HASH_LENGTHS } from "./names.ts";

const NAME_RULE = "Use 1–32 characters: lowercase letters, digits and dashes, starting with a letter or digit (e.g. linear).";

describe("connection names", () => {
  const cases: [string, string | null][] = [
    ["linear", null],
    ["a", null],
    ["9lives", null],
    ["my-server-2", null],
    ["a".repeat(32), null],
    ["a".repeat(33), NAME_RULE],
    ["", NAME_RULE],
    ["-lead", NAME_RULE],
    ["Linear", NAME_RULE],
    ["under_score", NAME_RULE], // `__` would end the name inside an exposed tool name
    ["dot.ted", NAME_RULE],
    ["spa ce", NAME_RULE],
    ["línear", NAME_RULE],
    ["gateway", '"gateway" is reserved for the gateway\'s own tools.'],
  ];
  test.each(cases)("%p", (name, expected) => {
    expect(checkConnectionName(name)).toBe(expected);
  });
});

describe("exposed tool names", () => {
  const verbatim: [string, string, string][] = [
    ["linear", "create_issue", "linear__create_issue"],
    ["a", "dotted.name-with_dash", "a__dotted.name-with_dash"],
    ["linear", "t".repeat(64 - "linear__".length), `linear__${"t".repeat(56)}`],
  ];
  test.each(verbatim)("%s + %s stays %s", (connection, tool, expected) => {
    expect(exposeToolName(connection, tool)).toBe(expected);
  });

  const shortened: [string, string, string][] = [
    ["over 64 characters", "linear", "t".repeat(57)],
    ["characters clients reject", "linear", "create issue!"],
    ["already shaped like a shortened name", "linear", "stem--abcdefgh"],
    ["a long connection name and a long tool", "c".repeat(32), "x".repeat(80)],
  ];
  test.each(shortened)("shortened when %s: ≤ 64 safe characters, stable, ending in the hash", (_, connection, tool) => {
    const exposed = exposeToolName(connection, tool);
    expect(exposed.length).toBeLessThanOrEqual(64);
    expect(exposed).toMatch(/^[A-Za-z0-9_.-]+$/);
    expect(exposed.startsWith(`${connection}__`)).toBe(true);
    expect(exposed).toMatch(/--[a-z2-7]{8}$/);
    expect(exposeToolName(connection, tool)).toBe(exposed);
  });

  test("unsafe characters become underscores in the stem", () => {
    expect(exposeToolName("linear", "create issue!")).toStartWith("linear__create_issue_--");
  });

  test("each longer hash length gives a longer, different name for the same tool", () => {
    const names = HASH_LENGTHS.map((length) => exposeToolName("linear", "t".repeat(80), length));
    expect(new Set(names).size).toBe(HASH_LENGTHS.length);
    names.forEach((name, i) => {
      expect(name).toMatch(new RegExp(`--[a-z2-7]{${HASH_LENGTHS[i]}}$`));
      expect(name.length).toBeLessThanOrEqual(64);
    });
  });

  test("two tools that differ only past the cut get different names", () => {
    expect(exposeToolName("linear", `${"t".repeat(70)}a`)).not.toBe(exposeToolName("linear", `${"t".repeat(70)}b`));
  });
});

describe("tool aliases", () => {
  test("an alias takes what MCP clients accept in a tool name, up to 64 characters", () => {
    for (const alias of ["say", "Create_Issue", "v1.search-all", "a".repeat(64), "gateway", "linear_create"]) expect(checkToolAlias(alias)).toBeNull();
    expect(checkToolAlias("a".repeat(65))).toContain("at most 64 characters");
    for (const alias of ["say hi", "créer", "a/b", "x\ny", "<b>"]) expect(checkToolAlias(alias)).toContain("only letters, digits");
  });

  test("an alias never has `__`, so no connection__tool or gateway__ name can ever meet it", () => {
    for (const alias of ["linear__create_issue", "gateway__call_tool", "a__", "__b"]) expect(checkToolAlias(alias)).toContain('cannot contain "__"');
  });
});
