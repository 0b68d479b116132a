/**
 * What changed between the definition an admin approved and the one the upstream lists now, field
 * by field, for the review's side-by-side view. Pure: strings in, pieces out; the view escapes.
 *
 * Every difference is reported, cosmetic ones included (a space, a reordered key): a tool's text
 * is an instruction to the model, and "only whitespace" is the admin's call, not ours.
 */

export type DiffOp = "same" | "removed" | "added";
/** A run of text that is in both sides, only in the approved one, or only in the current one. */
export type DiffPiece = { op: DiffOp; text: string };

export type FieldDiff = {
  key: string;
  label: string;
  /** Text is diffed word by word; JSON is pretty-printed and diffed line by line. */
  kind: "text" | "json";
  changed: boolean;
  /** The approved side: "same" and "removed" pieces; null when the field was not set. */
  before: DiffPiece[] | null;
  /** The current side: "same" and "added" pieces; null when the field is not set. */
  after: DiffPiece[] | null;
};

type FieldSpec = { key: string; label: string; kind: "text" | "json" };

/** A tool's fields, in the order a person reads them (the keys of ToolDefinition). */
export const TOOL_FIELDS: readonly FieldSpec[] = [
  { key: "name", label: "Name", kind: "text" },
  { key: "title", label: "Title", kind: "text" },
  { key: "description", label: "Description", kind: "text" },
  { key: "inputSchema", label: "Input schema", kind: "json" },
  { key: "outputSchema", label: "Output schema", kind: "json" },
  { key: "annotations", label: "Annotations", kind: "json" },
  { key: "execution", label: "Execution", kind: "json" },
  { key: "meta", label: "Meta (_meta)", kind: "json" },
  { key: "icons", label: "Icons", kind: "json" },
];

/** A prompt's, resource's or template's fields as the upstream listed them; others follow by name. */
export const ITEM_FIELDS: readonly FieldSpec[] = [
  { key: "name", label: "Name", kind: "text" },
  { key: "title", label: "Title", kind: "text" },
  { key: "description", label: "Description", kind: "text" },
  { key: "uri", label: "URI", kind: "text" },
  { key: "uriTemplate", label: "URI template", kind: "text" },
  { key: "mimeType", label: "MIME type", kind: "text" },
  { key: "arguments", label: "Arguments", kind: "json" },
  { key: "annotations", label: "Annotations", kind: "json" },
  { key: "_meta", label: "Meta (_meta)", kind: "json" },
  { key: "icons", label: "Icons", kind: "json" },
];

/** Above this many cells the changed middle is shown as replaced whole, not aligned token by token. */
const MAX_ALIGN_CELLS = 4_000_000;

/**
 * Each field of `fields`, then any other key either side has (sorted, as JSON): a field the list
 * does not know still shows when it changes. `approved` null means nothing was approved yet (a
 * new item): every set field shows as added.
 */
export function diffDefinitions(approved: Record<string, unknown> | null, current: Record<string, unknown>, fields: readonly FieldSpec[]): FieldDiff[] {
  const before = approved ?? {};
  const known = new Set(fields.map((f) => f.key));
  const extra = [...new Set([...Object.keys(before), ...Object.keys(current)])].filter((key) => !known.has(key)).sort();
  const specs = [...fields, ...extra.map((key): FieldSpec => ({ key, label: key, kind: "json" }))];
  return specs.map((spec) => diffField(spec, before[spec.key], current[spec.key])).filter((d) => d.before !== null || d.after !== null);
}

function diffField(spec: FieldSpec, a: unknown, b: unknown): FieldDiff {
  const left = render(spec.kind, a);
  const right = render(spec.kind, b);
  const base = { key: spec.key, label: spec.label, kind: spec.kind, changed: left !== right };
  if (left === null || right === null) {
    return { ...base, before: left === null ? null : [{ op: "removed", text: left }], after: right === null ? null : [{ op: "added", text: right }] };
  }
  const pieces = spec.kind === "text" ? diffWords(left, right) : diffLines(left, right);
  return { ...base, ...pieces };
}

/** Text as written; anything else (a non-string title from a hostile upstream) as JSON, so nothing hides. */
function render(kind: "text" | "json", value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (kind === "text" && typeof value === "string") return value;
  return JSON.stringify(value, null, 2) ?? String(value);
}

export type SideBySide = { before: DiffPiece[]; after: DiffPiece[] };

/** Word by word, whitespace kept as its own tokens: one changed word in a long description stands out. */
export function diffWords(a: string, b: string): SideBySide {
  return diffTokens(a.split(/(\s+)/).filter((t) => t !== ""), b.split(/(\s+)/).filter((t) => t !== ""));
}

/** Line by line, each line keeping its newline. */
export function diffLines(a: string, b: string): SideBySide {
  return diffTokens(a.match(/[^\n]*\n|[^\n]+$/g) ?? [], b.match(/[^\n]*\n|[^\n]+$/g) ?? []);
}

function diffTokens(a: string[], b: string[]): SideBySide {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const ops = alignMiddle(a.slice(start, endA), b.slice(start, endB));
  const head = a.slice(0, start).join("");
  const tail = a.slice(endA).join("");
  const before: DiffPiece[] = [];
  const after: DiffPiece[] = [];
  push(before, "same", head);
  push(after, "same", head);
  for (const [op, text] of ops) {
    if (op !== "added") push(before, op, text);
    if (op !== "removed") push(after, op, text);
  }
  push(before, "same", tail);
  push(after, "same", tail);
  return { before, after };
}

/** The longest common subsequence of two token lists, as same/removed/added steps in order. */
function alignMiddle(a: string[], b: string[]): [DiffOp, string][] {
  const n = a.length;
  const m = b.length;
  if (n === 0 || m === 0 || (n + 1) * (m + 1) > MAX_ALIGN_CELLS) {
    return [...a.map((t): [DiffOp, string] => ["removed", t]), ...b.map((t): [DiffOp, string] => ["added", t])];
  }
  // lcs[i * (m + 1) + j]: the common length of a[i..] and b[j..].
  const lcs = new Uint32Array((n + 1) * (m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * (m + 1) + j] = a[i] === b[j] ? (lcs[(i + 1) * (m + 1) + j + 1] ?? 0) + 1 : Math.max(lcs[(i + 1) * (m + 1) + j] ?? 0, lcs[i * (m + 1) + j + 1] ?? 0);
    }
  }
  const steps: [DiffOp, string][] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      steps.push(["same", a[i] ?? ""]);
      i++;
      j++;
    } else if ((lcs[(i + 1) * (m + 1) + j] ?? 0) >= (lcs[i * (m + 1) + j + 1] ?? 0)) {
      steps.push(["removed", a[i++] ?? ""]);
    } else {
      steps.push(["added", b[j++] ?? ""]);
    }
  }
  while (i < n) steps.push(["removed", a[i++] ?? ""]);
  while (j < m) steps.push(["added", b[j++] ?? ""]);
  return steps;
}

/** Appends, joining a run of the same kind into one piece. */
function push(pieces: DiffPiece[], op: DiffOp, text: string): void {
  if (text === "") return;
  const last = pieces.at(-1);
  if (last && last.op === op) last.text += text;
  else pieces.push({ op, text });
}

/** "Description and Input schema": the changed fields, for a one-line summary. */
export function changedLabels(diffs: readonly FieldDiff[]): string[] {
  return diffs.filter((d) => d.changed).map((d) => d.label);
}
