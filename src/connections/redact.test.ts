import { describe, expect, test } from "bun:test";
import { REDACTED, Redactor, redactorFor } from "./redact.ts";

const SECRET = "canary-7d1e0c5b9a4f4e2bb1c3";
const b64 = (s: string): string => Buffer.from(s).toString("base64");
const b64url = (s: string): string => Buffer.from(s).toString("base64url");

/** Every 8-character run of the part of encode(secret) that depends on the secret alone, at each alignment. */
function encodedPieces(secret: string, encode: (s: string) => string): string[] {
  return [0, 1, 2].flatMap((k) => fragments(encode(`${"\0".repeat(k)}${secret}`).replace(/=+$/, "").slice(4, -4)));
}

function redactorOf(...secrets: string[]): Redactor {
  const r = new Redactor();
  for (const s of secrets) r.add(s);
  return r;
}

/** Every run of 8 characters of `secret`: none may survive. */
function fragments(secret: string): string[] {
  return Array.from({ length: secret.length - 7 }, (_, i) => secret.slice(i, i + 8));
}

describe("redacting a secret from text", () => {
  const cases: [string, string, string][] = [
    ["raw, anywhere", `token=${SECRET}; ok`, `token=${REDACTED}; ok`],
    ["in a Bearer header echo", `Authorization: Bearer ${SECRET}`, `Authorization: Bearer ${REDACTED}`],
    ["URL-encoded", `?key=${encodeURIComponent(`${SECRET}/+ x`)}`, `?key=${REDACTED}`],
    ["a prefix cut at the end of the text", `you sent ${SECRET.slice(0, 12)}`, `you sent ${REDACTED}`],
    ["a prefix cut before an ellipsis", `you sent ${SECRET.slice(0, 12)}… and more`, `you sent ${REDACTED}… and more`],
    ["a suffix cut at the start of the text", `${SECRET.slice(-12)} was refused`, `${REDACTED} was refused`],
    ["most of the secret, wherever it stops", `x${SECRET.slice(0, 20)}XYZ`, `x${REDACTED}XYZ`],
    ["twice", `${SECRET} and ${SECRET}`, `${REDACTED} and ${REDACTED}`],
    ["nothing to redact", "all is well", "all is well"],
  ];
  for (const [name, input, expected] of cases) {
    test(name, () => {
      const secret = name === "URL-encoded" ? `${SECRET}/+ x` : SECRET;
      expect(redactorOf(secret).redactText(input)).toBe(expected);
    });
  }

  test("a short common run of the secret's start inside other text is left alone", () => {
    // The first 8 characters of a JWT-like token are shared by every token of its issuer.
    const jwt = `eyJhbGciOiJSUzI1NiJ9.${"a".repeat(60)}`;
    const other = `eyJhbGciOiJSUzI1NiJ9.${"b".repeat(60)}`;
    expect(redactorOf(jwt).redactText(`here: ${other} ok`)).toBe(`here: ${other} ok`);
  });

  test("base64 and base64url at every alignment, alone or inside an encoded header or JSON body", () => {
    const r = redactorOf(`${SECRET}?>~`);
    for (const pad of ["", "a", "ab", "abc"]) {
      for (const encode of [b64, b64url]) {
        const encoded = encode(`${pad}{"authorization":"Bearer ${SECRET}?>~"}`);
        const out = r.redactText(`echo ${encoded}`);
        expect(out).toContain(REDACTED);
        for (const piece of encodedPieces(`${SECRET}?>~`, encode)) expect(out).not.toContain(piece);
      }
    }
  });

  test("a Basic credential: the header, its base64, user:pass and the password", () => {
    const header = `Basic ${b64("alice:s3cret-pass-99")}`;
    const r = redactorOf(header);
    for (const echo of [header, b64("alice:s3cret-pass-99"), "alice:s3cret-pass-99", "pw=s3cret-pass-99"]) {
      expect(r.redactText(echo)).not.toContain("s3cret-pass-99");
      expect(r.redactText(echo)).not.toContain(b64("alice:s3cret-pass-99"));
    }
  });

  test("an empty set redacts nothing and returns the same value", () => {
    const r = redactorFor(null);
    const value = { content: [{ type: "text", text: SECRET }] };
    expect(r.empty).toBe(true);
    expect(r.redactValue(value)).toBe(value);
  });

  test("values at any depth, keys included, and untouched branches are shared", () => {
    const r = redactorOf(SECRET);
    const untouched = { a: 1, b: ["x"] };
    const value = { content: [{ type: "resource", resource: { uri: "x://y", text: `t ${SECRET}` } }], structuredContent: { deep: [{ [SECRET]: { v: `Bearer ${SECRET}` } }], untouched }, _meta: { m: SECRET } };
    const out = r.redactValue(value);
    expect(JSON.stringify(out)).not.toContain(SECRET.slice(0, 8));
    expect(out.structuredContent.untouched).toBe(untouched);
    expect(value.content[0]!.resource.text).toBe(`t ${SECRET}`);
  });

  test("every secret of a stored credential is in the set", () => {
    const oauth = redactorFor({ kind: "oauth", data: { tokens: { access_token: "access-aaaa-1111", refresh_token: "refresh-bbbb-2222", token_type: "Bearer" }, client: { client_id: "public-id", client_secret: "client-cccc-3333" } } });
    expect(oauth.redactText("access-aaaa-1111 refresh-bbbb-2222 client-cccc-3333 public-id Bearer")).toBe(`${REDACTED} ${REDACTED} ${REDACTED} public-id Bearer`);
    expect(redactorFor({ kind: "header", header: "X-Api-Key", value: "hdr-value-9999" }).redactText("hdr-value-9999")).toBe(REDACTED);
    expect(redactorFor({ kind: "url", key: "url-key/9999" }).redactText("k=url-key%2F9999")).toBe(`k=${REDACTED}`);
    expect(redactorFor({ kind: "id-jag", data: { accessToken: "jag-token-7777", clientSecret: "jag-secret-8888" } }).redactText("jag-token-7777 jag-secret-8888")).toBe(`${REDACTED} ${REDACTED}`);
  });
});

describe("clipping redacted text", () => {
  test("a secret straddling the clip leaves no fragment, at every position", () => {
    const r = redactorOf(SECRET);
    for (let offset = 170; offset <= 200; offset++) {
      const out = r.clip(`${"x".repeat(offset)}${SECRET} tail text`, 200);
      for (const piece of fragments(SECRET)) expect(out).not.toContain(piece);
      expect(out.length).toBeLessThanOrEqual(201);
    }
  });

  test("a clip never ends in the first characters of a secret", () => {
    const r = redactorOf(SECRET);
    // The text has the secret's start, then something else: not a secret, but the cut must not end in it.
    const out = r.clip(`${"x".repeat(195)}canary-7d1XYZ`, 200);
    expect(out).toBe(`${"x".repeat(195)}…`);
  });

  test("short text is returned redacted, unclipped", () => {
    expect(redactorOf(SECRET).clip(`a ${SECRET}`, 200)).toBe(`a ${REDACTED}`);
  });
});
