import type { UpstreamSecret } from "./secret.ts";
import { secretValues } from "./auth-kinds/upstream.ts";

/**
 * What an upstream may echo back of the credential we sent it, and the rule that keeps it from
 * travelling on. The set is built once per pooled client (and grows when an OAuth token is
 * refreshed), so a call's result costs one scan per needle of every string in it, and nothing at
 * all for a connection without a credential.
 */
export const REDACTED = "[redacted]";

/** A whole secret shorter than this is still redacted; a fragment, or a derived form, must be at least this long. */
const MIN_SECRET = 4;
const MIN_FRAGMENT = 8;
/** How a cut announces itself: our own clips and most upstreams' end in one of these. */
const CUT_MARKS = ["…", "..."];

type Needle = { value: string; head: string; tail: string };

export class Redactor {
  private readonly values = new Set<string>();
  private needles: Needle[] = [];
  /** Every needle's head and tail in one pattern: a string with no secret in it costs one scan. */
  private pattern: RegExp | null = null;

  /** Adds a secret in every form it can take (raw, URL-encoded, base64/base64url at any alignment, auth-scheme parts). */
  add(secret: string | null | undefined): void {
    if (!secret || secret.length < MIN_SECRET || this.values.has(secret)) return;
    this.values.add(secret);
    const known = new Set(this.needles.map((n) => n.value));
    for (const form of formsOf(secret)) {
      if (known.has(form)) continue;
      known.add(form);
      this.needles.push({ value: form, head: form.slice(0, MIN_FRAGMENT), tail: form.slice(-MIN_FRAGMENT) });
    }
    // Longest first: a form that contains another is replaced whole.
    this.needles.sort((a, b) => b.value.length - a.value.length);
    const parts = new Set(this.needles.flatMap((n) => [n.head, n.tail]));
    this.pattern = new RegExp([...parts].map(escapeRegExp).join("|"));
  }

  get empty(): boolean {
    return this.needles.length === 0;
  }

  /** The text with every form of every secret, and every fragment of one at a cut, replaced. */
  redactText(text: string): string {
    if (this.pattern === null || text.length < MIN_SECRET) return text;
    const hit = this.pattern.test(text);
    return hit ? replaceSpans(text, this.needles) : text;
  }

  /**
   * A JSON value (a tool result, an error's data) with every string in it, keys included,
   * redacted at any depth. Unchanged parts are shared, not copied.
   */
  redactValue<T>(value: T): T {
    if (this.needles.length === 0) return value;
    return this.walk(value) as T;
  }

  private walk(value: unknown): unknown {
    if (typeof value === "string") return this.redactText(value);
    if (value === null || typeof value !== "object") return value;
    if (Array.isArray(value)) {
      let copy: unknown[] | null = null;
      for (let i = 0; i < value.length; i++) {
        const next = this.walk(value[i]);
        if (next === value[i]) continue;
        copy ??= value.slice();
        copy[i] = next;
      }
      return copy ?? value;
    }
    let copy: Record<string, unknown> | null = null;
    const entries = Object.entries(value as Record<string, unknown>);
    for (const [key, item] of entries) {
      const nextKey = this.redactText(key);
      const next = this.walk(item);
      if (nextKey === key && next === item) continue;
      if (!copy) copy = Object.fromEntries(entries);
      if (nextKey !== key) delete copy[key];
      copy[nextKey] = next;
    }
    return copy ?? value;
  }

  /**
   * Redacts the whole text first, then shortens it: a secret straddling `max` is gone before the
   * cut, and a cut that happens to end in the first characters of a secret drops them.
   */
  clip(text: string, max: number): string {
    const redacted = this.redactText(text);
    if (redacted.length <= max) return redacted;
    let cut = redacted.slice(0, max);
    for (const n of this.needles) {
      for (let k = Math.min(n.value.length - 1, cut.length); k >= MIN_SECRET; k--) {
        if (cut.endsWith(n.value.slice(0, k))) {
          cut = cut.slice(0, -k);
          break;
        }
      }
    }
    return `${cut}…`;
  }
}

/** The redaction set of a stored credential: every value in it that the upstream (or its authorization server) saw. */
export function redactorFor(secret: UpstreamSecret | null): Redactor {
  const redactor = new Redactor();
  for (const value of secretValues(secret)) redactor.add(value);
  return redactor;
}

/** Every form of one secret an echo could carry. Derived forms shorter than a fragment are left out (they would match by chance). */
export function formsOf(secret: string): string[] {
  const raw = [secret, ...schemeParts(secret)];
  const forms = new Set<string>();
  for (const value of raw) {
    if (value.length < MIN_SECRET) continue;
    forms.add(value);
    const derived = [encodeURIComponent(value), lowerHex(encodeURIComponent(value)), ...base64Cores(value)];
    for (const form of derived) if (form.length >= MIN_FRAGMENT) forms.add(form);
  }
  return [...forms];
}

/** `Bearer xyz` → xyz; `Basic base64(user:pass)` → the base64, `user:pass` and `pass`. */
function schemeParts(value: string): string[] {
  const match = /^([A-Za-z][A-Za-z0-9_-]*) +(\S.*)$/.exec(value.trim());
  if (!match) return [];
  const [, scheme, credential] = match as unknown as [string, string, string];
  if (scheme.toLowerCase() !== "basic") return [credential];
  const decoded = Buffer.from(credential, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon < 0 ? [credential] : [credential, decoded, decoded.slice(colon + 1)];
}

function lowerHex(encoded: string): string {
  return encoded.replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase());
}

/**
 * The part of base64(secret) that is the same wherever the secret sits in the encoded bytes (at
 * each of the three alignments), in both alphabets: an echo of a whole header or JSON body,
 * base64-encoded, still carries one of them.
 */
function base64Cores(value: string): string[] {
  const bytes = new TextEncoder().encode(value);
  const cores: string[] = [];
  for (let offset = 0; offset < 3; offset++) {
    const padded = new Uint8Array(offset + bytes.length);
    padded.set(bytes, offset);
    const encoded = Buffer.from(padded).toString("base64").replace(/=+$/, "");
    const core = encoded.slice(Math.ceil((8 * offset) / 6), Math.floor((8 * (offset + bytes.length)) / 6));
    cores.push(core, core.replaceAll("+", "-").replaceAll("/", "_"));
  }
  return cores;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

type Span = { start: number; end: number };

/**
 * Whole needles anywhere; a fragment (a needle's start or end, at least MIN_FRAGMENT long) where a
 * cut made it: at the text's edge or beside an ellipsis, or when it is at least half the needle.
 */
function replaceSpans(text: string, needles: Needle[]): string {
  const spans: Span[] = [];
  for (const { value, head, tail } of needles) {
    const whole = value.length;
    for (let at = text.indexOf(head); at >= 0; at = text.indexOf(head, at + 1)) {
      let end = at + head.length;
      while (end - at < whole && end < text.length && text[end] === value[end - at]) end++;
      const length = end - at;
      if (length === whole || end === text.length || CUT_MARKS.some((m) => text.startsWith(m, end)) || length * 2 >= whole) spans.push({ start: at, end });
    }
    if (whole <= MIN_FRAGMENT) continue;
    for (let at = text.indexOf(tail); at >= 0; at = text.indexOf(tail, at + 1)) {
      const end = at + tail.length;
      let start = at;
      while (end - start < whole && start > 0 && text[start - 1] === value[whole - (end - start) - 1]) start--;
      const length = end - start;
      if (length === whole || start === 0 || CUT_MARKS.some((m) => text.endsWith(m, start)) || length * 2 >= whole) spans.push({ start, end });
    }
  }
  if (spans.length === 0) return text;
  spans.sort((a, b) => a.start - b.start || b.end - a.end);
  let out = "";
  let pos = 0;
  for (const span of spans) {
    if (span.end <= pos) continue;
    if (span.start >= pos) {
      out += text.slice(pos, span.start) + REDACTED;
    }
    pos = span.end;
  }
  return out + text.slice(pos);
}

/** Upstreams sometimes echo what they were sent; no stored secret may travel on in an error (see redact.ts). */
export function redactSecret(text: string, secret: UpstreamSecret | null): string {
  return redactorFor(secret).redactText(text);
}
