import { describe, expect, test } from "bun:test";
import { argFields, initialValues, readArgs } from "./tool-form.ts";

const schema = {
  type: "object",
  properties: {
    query: { type: "string", description: "What to look for" },
    limit: { type: "integer", default: 10 },
    ratio: { type: ["number", "null"] },
    exact: { type: "boolean", default: true },
    sort: { type: "string", enum: ["asc", "desc"] },
    level: { enum: [1, 2, 3] },
    tags: { type: "array", items: { type: "string" } },
    filter: { type: "object" },
    anything: {},
  },
  required: ["query", "tags"],
};
// A JSON-parsed schema has "__proto__" as an own property, as an upstream's would.
const parsed = JSON.parse(JSON.stringify(schema).replace('"anything":{}', '"anything":{},"__proto__":{"type":"string"}')) as Record<string, unknown>;

describe("a form from a tool's input schema", () => {
  test("each property becomes an input of its kind, named by position, with the schema's defaults", () => {
    const fields = argFields(parsed);
    expect(fields.map((f) => [f.key, f.input, f.kind, f.required])).toEqual([
      ["query", "arg-0", "text", true],
      ["limit", "arg-1", "integer", false],
      ["ratio", "arg-2", "number", false],
      ["exact", "arg-3", "boolean", false],
      ["sort", "arg-4", "enum", false],
      ["level", "arg-5", "enum", false],
      ["tags", "arg-6", "json", true],
      ["filter", "arg-7", "json", false],
      ["anything", "arg-8", "json", false],
      ["__proto__", "arg-9", "text", false],
    ]);
    expect(fields[0]!.description).toBe("What to look for");
    expect(fields[6]!.expects).toBe("array");
    expect(initialValues(fields)).toMatchObject({ "arg-1": "10", "arg-3": "true", "arg-0": "" });
  });

  test("a schema without properties, or with junk in them, gives no fields and does not throw", () => {
    expect(argFields({ type: "object" })).toEqual([]);
    expect(argFields({ properties: [1, 2] })).toEqual([]);
    expect(argFields({ properties: { x: "not a schema", y: null } }).map((f) => f.kind)).toEqual(["json", "json"]);
  });

  test("a posted form becomes typed arguments; empty optional fields are left out", () => {
    const fields = argFields(parsed);
    const result = readArgs(fields, { "arg-0": "cats", "arg-1": "5", "arg-3": "true", "arg-4": "1", "arg-5": "2", "arg-6": '["a","b"]', "arg-9": "own" });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(JSON.stringify(result.args)).toBe('{"query":"cats","limit":5,"exact":true,"sort":"desc","level":3,"tags":["a","b"],"__proto__":"own"}');
    expect(Object.getPrototypeOf(result.args)).toBe(Object.prototype);
  });

  test("each wrong field gets its own message: required, bad numbers, bad JSON, wrong JSON shape, unknown choice", () => {
    const fields = argFields(parsed);
    const result = readArgs(fields, { "arg-0": " ", "arg-1": "1.5", "arg-2": "abc", "arg-4": "9", "arg-6": "[1,", "arg-7": "[]" });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors["arg-0"]).toBe("This field is required.");
    expect(result.errors["arg-1"]).toBe("Enter a whole number, such as 42.");
    expect(result.errors["arg-2"]).toBe("Enter a number, such as 42 or 3.5.");
    expect(result.errors["arg-4"]).toBe("Choose one of the options.");
    expect(result.errors["arg-6"]).toStartWith("This is not valid JSON (");
    expect(result.errors["arg-7"]).toBe('Enter a JSON object, such as {"key": "value"}.');
    expect(result.errors["arg-3"]).toBeUndefined();
  });

  test("an unchecked boolean is sent as false", () => {
    const fields = argFields({ properties: { on: { type: "boolean" } } });
    expect(readArgs(fields, {})).toEqual({ ok: true, args: { on: false } });
  });
});

describe("a list of choices (an array whose items are an enum)", () => {
  const listSchema = { type: "object", properties: { colours: { type: "array", items: { type: "string", enum: ["red", "green", "blue"] }, default: ["blue"] } }, required: ["colours"] };

  test("becomes checkboxes by index, starts with the default ticked, and reads back the chosen values in order", () => {
    const fields = argFields(listSchema);
    expect(fields.map((f) => [f.kind, f.choices])).toEqual([["choices", ["red", "green", "blue"]]]);
    expect(initialValues(fields)).toEqual({ "arg-0": "2" });
    expect(readArgs(fields, { "arg-0": "0,2" })).toEqual({ ok: true, args: { colours: ["red", "blue"] } });
  });

  test("nothing ticked on a required list is named; an index that is not offered is refused", () => {
    const fields = argFields(listSchema);
    expect(readArgs(fields, {})).toEqual({ ok: false, errors: { "arg-0": "This field is required." } });
    expect(readArgs(fields, { "arg-0": "0,7" })).toEqual({ ok: false, errors: { "arg-0": "Choose from the options." } });
  });
});
