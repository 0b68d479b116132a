import { describe, expect, test } from "bun:test";
import { readAuthForm, readAuthJson } from "../forms.ts";
import type { UpstreamSecret } from "../secret.ts";
import { checkAuthInput, checkUrlKey, isEmptyAuth, memberAuthInput, storedAuthHeader, toSecret } from "./input.ts";
import { AUTH_KIND_IDS } from "./list.ts";
import { AUTH_KINDS, authKindApiMessage, chooseAuthMessage, pastedAuthKinds, type AuthInput } from "./registry.ts";
import { credentialHeaders, secretValues, upstreamUrl } from "./upstream.ts";

/** The checks every kind's input goes through, as a table: what is posted, what it reads as, and the messages it gets. */

describe("the registry", () => {
  test("lists every kind of the database enum, in its order, each once", () => {
    expect(AUTH_KINDS.map((kind) => kind.id)).toEqual([...AUTH_KIND_IDS]);
  });

  test("builds the messages that name the kinds from the one list", () => {
    expect(chooseAuthMessage()).toBe("Choose an authentication: none, a bearer token, a custom header, a key in the URL, OAuth or enterprise-managed (ID-JAG).");
    expect(authKindApiMessage()).toBe('auth.kind must be "none", "bearer", "header", "url", "oauth" or "id-jag"');
    expect(pastedAuthKinds().map((kind) => kind.id)).toEqual(["none", "bearer", "header", "url"]);
  });
});

type Case = { name: string; json: unknown; form: Record<string, string>; input: AuthInput; errors: Record<string, string> };

const CASES: Case[] = [
  { name: "none", json: { kind: "none" }, form: { auth: "none" }, input: { kind: "none" }, errors: {} },
  { name: "no auth at all is none", json: undefined, form: {}, input: { kind: "none" }, errors: {} },
  { name: "a bearer token", json: { kind: "bearer", token: "sk-1234" }, form: { auth: "bearer", token: "sk-1234" }, input: { kind: "bearer", token: "sk-1234" }, errors: {} },
  {
    name: "an empty bearer token",
    json: { kind: "bearer", token: "  " },
    form: { auth: "bearer", token: "  " },
    input: { kind: "bearer", token: "  " },
    errors: { token: "Paste the API key or token the server expects." },
  },
  {
    name: "a bearer token with a space inside",
    json: { kind: "bearer", token: "sk 1234" },
    form: { auth: "bearer", token: "sk 1234" },
    input: { kind: "bearer", token: "sk 1234" },
    errors: { token: "The token has spaces or control characters; paste it without them." },
  },
  {
    name: "a bearer token that is not a string",
    json: { kind: "bearer", token: 42 },
    form: { auth: "bearer" },
    input: { kind: "bearer", token: "" },
    errors: { token: "Paste the API key or token the server expects." },
  },
  {
    name: "a custom header",
    json: { kind: "header", header: " X-API-Key ", value: "v-1234" },
    form: { auth: "header", header: " X-API-Key ", value: "v-1234" },
    input: { kind: "header", header: "X-API-Key", value: "v-1234" },
    errors: {},
  },
  {
    name: "a header with a bad name and no value",
    json: { kind: "header", header: "X API", value: "" },
    form: { auth: "header", header: "X API", value: "" },
    input: { kind: "header", header: "X API", value: "" },
    errors: { header: "Give a header name such as X-API-Key (letters, digits and dashes).", value: "Paste the header's value." },
  },
  {
    name: "a header the transport owns, with a control character in its value",
    json: { kind: "header", header: "Cookie", value: "a\u0007b" },
    form: { auth: "header", header: "Cookie", value: "a\u0007b" },
    input: { kind: "header", header: "Cookie", value: "a\u0007b" },
    errors: { header: "Cookie is set by the gateway itself; use another header.", value: "The value has control characters; paste it without them." },
  },
  { name: "a key in the URL", json: { kind: "url", key: "fc-1234" }, form: { auth: "url", key: "fc-1234" }, input: { kind: "url", key: "fc-1234" }, errors: {} },
  { name: "an empty key", json: { kind: "url" }, form: { auth: "url", key: "" }, input: { kind: "url", key: "" }, errors: { key: "Paste the API key that goes into the URL." } },
  {
    name: "a key with a tab inside",
    json: { kind: "url", key: "fc\t1234" },
    form: { auth: "url", key: "fc\t1234" },
    input: { kind: "url", key: "fc\t1234" },
    errors: { key: "The key has spaces or control characters; paste it without them." },
  },
  { name: "OAuth without a client", json: { kind: "oauth" }, form: { auth: "oauth", clientId: " ", clientSecret: "" }, input: { kind: "oauth", clientId: undefined, clientSecret: undefined }, errors: {} },
  {
    name: "OAuth with an operator's client",
    json: { kind: "oauth", clientId: " app ", clientSecret: "shh" },
    form: { auth: "oauth", clientId: " app ", clientSecret: "shh" },
    input: { kind: "oauth", clientId: "app", clientSecret: "shh" },
    errors: {},
  },
  {
    name: "OAuth with a client secret and no client ID",
    json: { kind: "oauth", clientSecret: "shh" },
    form: { auth: "oauth", clientSecret: "shh" },
    input: { kind: "oauth", clientId: undefined, clientSecret: "shh" },
    errors: { clientId: "Give the client ID that goes with the client secret." },
  },
  {
    name: "OAuth with a client ID too long",
    json: { kind: "oauth", clientId: "x".repeat(513) },
    form: { auth: "oauth", clientId: "x".repeat(513) },
    input: { kind: "oauth", clientId: "x".repeat(513), clientSecret: undefined },
    errors: { clientId: "That does not look like a client ID." },
  },
  {
    name: "ID-JAG (the form names its client apart from OAuth's)",
    json: { kind: "id-jag", clientId: " gw ", clientSecret: "s3cret" },
    form: { auth: "id-jag", idjagClientId: " gw ", idjagClientSecret: "s3cret", clientId: "not-this-one" },
    input: { kind: "id-jag", clientId: "gw", clientSecret: "s3cret" },
    errors: {},
  },
  {
    name: "ID-JAG without its client",
    json: { kind: "id-jag" },
    form: { auth: "id-jag" },
    input: { kind: "id-jag", clientId: "", clientSecret: "" },
    errors: { clientId: "Give the client ID the server's authorization server registered for the gateway.", clientSecret: "Give the client secret that goes with the client ID." },
  },
];

describe("each kind's input, from the API and from the form", () => {
  for (const c of CASES) {
    test(c.name, () => {
      const fromJson = readAuthJson(c.json);
      const fromForm = readAuthForm(c.form);
      expect(fromJson).toEqual(c.input);
      expect(fromForm).toEqual(c.input);
      expect(checkAuthInput(c.input)).toEqual(c.errors);
    });
  }

  test("an unknown kind is refused with the list of kinds", () => {
    expect(readAuthJson({ kind: "basic" })).toEqual({ invalid: authKindApiMessage() });
    expect(readAuthJson({ kind: "toString" })).toEqual({ invalid: authKindApiMessage() });
    expect(readAuthJson("bearer")).toEqual({ invalid: 'auth must be an object like { "kind": "none" }' });
    expect(readAuthJson(null)).toEqual({ invalid: 'auth must be an object like { "kind": "none" }' });
    expect(readAuthForm({ auth: "basic" })).toEqual({ kind: "invalid", message: chooseAuthMessage() });
    expect(readAuthForm({ auth: "" })).toEqual({ kind: "invalid", message: chooseAuthMessage() });
    expect(checkAuthInput({ kind: "basic" } as unknown as AuthInput)).toEqual({ auth: chooseAuthMessage() });
  });
});

describe("{key} in the URL", () => {
  const cases: [string, AuthInput["kind"], string | null][] = [
    ["https://mcp.firecrawl.dev/{key}/v2/mcp", "url", null],
    ["https://mcp.firecrawl.dev/%7Bkey%7D/v2/mcp", "url", null],
    ["https://mcp.firecrawl.dev/v2/mcp", "url", "Put {key} in the URL where the API key goes, e.g. https://mcp.firecrawl.dev/{key}/v2/mcp."],
    ["https://mcp.firecrawl.dev/{key}/v2/mcp", "bearer", "The URL has {key} in it: choose the key-in-URL authentication, or remove it."],
    ["https://mcp.firecrawl.dev/{key}/v2/mcp", "none", "The URL has {key} in it: choose the key-in-URL authentication, or remove it."],
    ["https://mcp.example.com/mcp", "oauth", null],
  ];
  for (const [url, kind, message] of cases) {
    test(`${kind} with ${url}`, () => expect(checkUrlKey(url, kind)).toBe(message));
  }
});

describe("what each kind seals, sends and redacts", () => {
  const cases: { input: AuthInput; secret: UpstreamSecret | null; headers: Record<string, string>; url: string; redacts: string[] }[] = [
    { input: { kind: "none" }, secret: null, headers: {}, url: "https://a.example/mcp", redacts: [] },
    { input: { kind: "bearer", token: " tok-1234 " }, secret: { kind: "bearer", token: "tok-1234" }, headers: { authorization: "Bearer tok-1234" }, url: "https://a.example/mcp", redacts: ["tok-1234"] },
    {
      input: { kind: "header", header: "X-API-Key", value: " v-1234 " },
      secret: { kind: "header", header: "X-API-Key", value: "v-1234" },
      headers: { "X-API-Key": "v-1234" },
      url: "https://a.example/mcp",
      redacts: ["v-1234"],
    },
    { input: { kind: "url", key: " a/b c " }, secret: { kind: "url", key: "a/b c" }, headers: {}, url: "https://a.example/a%2Fb%20c/mcp", redacts: ["a/b c"] },
    { input: { kind: "oauth" }, secret: null, headers: {}, url: "https://a.example/mcp", redacts: [] },
    {
      input: { kind: "oauth", clientId: "app", clientSecret: "shh-secret" },
      secret: { kind: "oauth", data: { client: { client_id: "app", client_secret: "shh-secret" }, clientSource: "operator" } },
      headers: {},
      url: "https://a.example/mcp",
      redacts: ["shh-secret"],
    },
    { input: { kind: "id-jag", clientId: "gw", clientSecret: "s3cret" }, secret: null, headers: {}, url: "https://a.example/mcp", redacts: [] },
  ];
  for (const c of cases) {
    test(`${c.input.kind}${c.secret ? "" : " (nothing sealed)"}`, () => {
      const secret = toSecret(c.input);
      expect(secret).toEqual(c.secret);
      expect(credentialHeaders(secret)).toEqual(c.headers);
      expect(upstreamUrl(c.secret?.kind === "url" ? "https://a.example/{key}/mcp" : "https://a.example/mcp", secret)).toBe(c.url);
      expect(secretValues(secret)).toEqual(c.redacts);
    });
  }

  test("a stored OAuth or ID-JAG credential's tokens and client secret are redacted", () => {
    const oauth: UpstreamSecret = { kind: "oauth", data: { tokens: { access_token: "at-1", refresh_token: "rt-1", id_token: "it-1" }, client: { client_id: "app", client_secret: "cs-1" } } };
    expect(secretValues(oauth)).toEqual(["at-1", "rt-1", "it-1", "cs-1"]);
    expect(secretValues({ kind: "id-jag", data: { clientId: "gw", clientSecret: "cs-2", accessToken: "at-2" } })).toEqual(["at-2", "cs-2"]);
  });
});

describe("per-member connections", () => {
  test("a member pastes the value of the connection's own kind; OAuth and ID-JAG are not pasted", () => {
    expect(memberAuthInput({ authKind: "bearer", authHeader: null }, "t")).toEqual({ kind: "bearer", token: "t" });
    expect(memberAuthInput({ authKind: "header", authHeader: "X-Key" }, "v")).toEqual({ kind: "header", header: "X-Key", value: "v" });
    expect(memberAuthInput({ authKind: "url", authHeader: null }, "k")).toEqual({ kind: "url", key: "k" });
    for (const authKind of ["none", "oauth", "id-jag"] as const) expect(memberAuthInput({ authKind, authHeader: null }, "x")).toBeNull();
  });

  test("an admin may leave their own token empty; only a custom header's name is kept in the row", () => {
    expect(isEmptyAuth({ kind: "bearer", token: " " })).toBe(true);
    expect(isEmptyAuth({ kind: "header", header: "X-Key", value: "" })).toBe(true);
    expect(isEmptyAuth({ kind: "header", header: "X Key", value: "" })).toBe(false);
    expect(isEmptyAuth({ kind: "url", key: "" })).toBe(true);
    expect(isEmptyAuth({ kind: "oauth" })).toBe(false);
    expect(storedAuthHeader({ kind: "header", header: "X-Key", value: "v" })).toBe("X-Key");
    expect(storedAuthHeader({ kind: "bearer", token: "t" })).toBeNull();
  });
});
