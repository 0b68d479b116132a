/**
 * "Test a tool": turns a tool's input JSON Schema into form fields and the posted form back into
 * arguments. Everything in the schema is upstream data: property names, titles, descriptions and
 * enum values are only ever shown as escaped text; inputs are named by position, never by them.
 */

export type ArgFieldKind = "text" | "number" | "integer" | "boolean" | "enum" | "choices" | "json";

export type ArgField = {
  /** The property name the upstream expects (untrusted text). */
  key: string;
  /** The form input's name and id stem: `arg-<index>`. */
  input: string;
  kind: ArgFieldKind;
  required: boolean;
  title: string | null;
  description: string | null;
  /** For `enum` and `choices` (an array of enum items): the allowed values, offered by index. */
  choices: unknown[];
  /** For `json`: what the value must be. */
  expects: "array" | "object" | "any";
  /** The value the input starts with (from the schema's `default`). */
  initial: string;
};

/** The posted form: one string per input (a checkbox group's ticked indexes joined by ","). */
export type ArgValues = Record<string, string>;
export type ReadArgsResult = { ok: true; args: Record<string, unknown> } | { ok: false; errors: Record<string, string> };

const MAX_FIELDS = 100;
const MAX_CHOICES = 500;

function text(value: unknown): string | null {
  return typeof value === "string" && value.trim() !== "" ? value : null;
}

function schemaType(schema: Record<string, unknown>): string | null {
  const type = schema.type;
  if (typeof type === "string") return type;
  if (Array.isArray(type)) {
    const concrete = type.filter((t) => t !== "null");
    return concrete.length === 1 && typeof concrete[0] === "string" ? concrete[0] : null;
  }
  return null;
}

/** The enum of an array's items: a list of choices gets checkboxes rather than a JSON box. */
function itemChoices(schema: Record<string, unknown>): unknown[] | null {
  if (schemaType(schema) !== "array") return null;
  const items = schema.items;
  if (typeof items !== "object" || items === null || Array.isArray(items)) return null;
  const choices = (items as Record<string, unknown>).enum;
  return Array.isArray(choices) && choices.length > 0 && choices.length <= MAX_CHOICES ? choices : null;
}

function kindOf(schema: Record<string, unknown>): ArgFieldKind {
  if (Array.isArray(schema.enum) && schema.enum.length > 0 && schema.enum.length <= MAX_CHOICES) return "enum";
  if (itemChoices(schema)) return "choices";
  switch (schemaType(schema)) {
    case "string":
      return "text";
    case "number":
      return "number";
    case "integer":
      return "integer";
    case "boolean":
      return "boolean";
    default:
      return "json";
  }
}

function initialValue(kind: ArgFieldKind, schema: Record<string, unknown>): string {
  const value = schema.default;
  if (value === undefined) return "";
  switch (kind) {
    case "text":
      return typeof value === "string" ? value : "";
    case "number":
    case "integer":
      return typeof value === "number" && Number.isFinite(value) ? String(value) : "";
    case "boolean":
      return value === true ? "true" : "";
    case "enum": {
      const index = (schema.enum as unknown[]).findIndex((choice) => JSON.stringify(choice) === JSON.stringify(value));
      return index >= 0 ? String(index) : "";
    }
    case "choices": {
      const choices = itemChoices(schema) ?? [];
      if (!Array.isArray(value)) return "";
      return value
        .map((item) => choices.findIndex((choice) => JSON.stringify(choice) === JSON.stringify(item)))
        .filter((index) => index >= 0)
        .join(",");
    }
    case "json":
      return JSON.stringify(value, null, 2) ?? "";
  }
}

/** The top-level properties of an input schema as form fields, in the schema's order. */
export function argFields(inputSchema: Record<string, unknown>): ArgField[] {
  const properties = inputSchema.properties;
  if (typeof properties !== "object" || properties === null || Array.isArray(properties)) return [];
  const required = new Set(Array.isArray(inputSchema.required) ? inputSchema.required.filter((r): r is string => typeof r === "string") : []);
  return Object.entries(properties as Record<string, unknown>)
    .slice(0, MAX_FIELDS)
    .map(([key, raw], index) => {
      const schema = typeof raw === "object" && raw !== null && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
      const kind = kindOf(schema);
      const type = schemaType(schema);
      return {
        key,
        input: `arg-${index}`,
        kind,
        required: required.has(key),
        title: text(schema.title),
        description: text(schema.description),
        choices: kind === "enum" ? (schema.enum as unknown[]) : kind === "choices" ? (itemChoices(schema) ?? []) : [],
        expects: type === "array" ? "array" : type === "object" ? "object" : "any",
        initial: initialValue(kind, schema),
      };
    });
}

/** The starting values of a fresh form. */
export function initialValues(fields: ArgField[]): ArgValues {
  return Object.fromEntries(fields.map((f) => [f.input, f.initial]));
}

/** Reads the posted form into tool arguments, or a message per field that is wrong. */
export function readArgs(fields: ArgField[], form: ArgValues): ReadArgsResult {
  const entries: [string, unknown][] = [];
  const errors: Record<string, string> = {};
  for (const field of fields) {
    const raw = form[field.input] ?? "";
    if (field.kind === "boolean") {
      entries.push([field.key, raw === "true"]);
      continue;
    }
    if (raw.trim() === "") {
      if (field.required) errors[field.input] = "This field is required.";
      continue;
    }
    const parsed = readValue(field, raw);
    if ("error" in parsed) errors[field.input] = parsed.error;
    else entries.push([field.key, parsed.value]);
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  // fromEntries defines own properties, so a property named "__proto__" stays an argument.
  return { ok: true, args: Object.fromEntries(entries) };
}

function readValue(field: ArgField, raw: string): { value: unknown } | { error: string } {
  switch (field.kind) {
    case "text":
      return { value: raw };
    case "number":
    case "integer": {
      const value = Number(raw.trim());
      if (!Number.isFinite(value)) return { error: "Enter a number, such as 42 or 3.5." };
      if (field.kind === "integer" && !Number.isInteger(value)) return { error: "Enter a whole number, such as 42." };
      return { value };
    }
    case "enum": {
      const index = Number(raw);
      if (!Number.isInteger(index) || index < 0 || index >= field.choices.length) return { error: "Choose one of the options." };
      return { value: field.choices[index] };
    }
    case "boolean":
      return { value: raw === "true" };
    case "choices": {
      const indexes = raw.split(",").map(Number);
      if (indexes.some((index) => !Number.isInteger(index) || index < 0 || index >= field.choices.length)) return { error: "Choose from the options." };
      return { value: indexes.map((index) => field.choices[index]) };
    }
    case "json": {
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch (error) {
        return { error: `This is not valid JSON (${error instanceof Error ? error.message : "parse error"}).` };
      }
      if (field.expects === "array" && !Array.isArray(value)) return { error: 'Enter a JSON array, such as ["a", "b"].' };
      if (field.expects === "object" && (typeof value !== "object" || value === null || Array.isArray(value))) {
        return { error: 'Enter a JSON object, such as {"key": "value"}.' };
      }
      return { value };
    }
  }
}

/** How an enum choice is shown in the select: strings as they are, anything else as JSON. */
export function choiceLabel(choice: unknown): string {
  return typeof choice === "string" ? choice : (JSON.stringify(choice) ?? String(choice));
}
