/**
 * Every way the gateway can authenticate to an upstream, in the order forms offer them. The JSON
 * API's parser, the dashboard's form reader, the Add server radios and the "choose an
 * authentication" messages are all built from this one list, so a kind cannot be accepted in one
 * place and missing from another.
 */
export const AUTH_KINDS = [
  { kind: "none", label: "None", phrase: "none", pasted: true },
  { kind: "bearer", label: "API key or token", phrase: "a bearer token", pasted: true },
  { kind: "header", label: "Custom header", phrase: "a custom header", pasted: true },
  { kind: "url", label: "Key in the URL", phrase: "a key in the URL", pasted: true },
  { kind: "oauth", label: "OAuth", phrase: "OAuth", pasted: false },
  { kind: "id-jag", label: "Enterprise-managed (ID-JAG)", phrase: "enterprise-managed (ID-JAG)", pasted: false },
] as const;

export type AuthKind = (typeof AUTH_KINDS)[number]["kind"];

export type AuthKindInfo = (typeof AUTH_KINDS)[number];

export function isAuthKind(value: unknown): value is AuthKind {
  return AUTH_KINDS.some((entry) => entry.kind === value);
}

/**
 * The kinds a person can paste a credential for (re-authorizing a token connection); OAuth and
 * ID-JAG are authorized through a provider instead.
 */
export function pastedAuthKinds(): AuthKindInfo[] {
  return AUTH_KINDS.filter((entry) => entry.pasted);
}

/** "Choose an authentication: none, a bearer token, … or enterprise-managed (ID-JAG)." */
export function chooseAuthMessage(kinds: readonly AuthKindInfo[] = AUTH_KINDS): string {
  const phrases = kinds.map((entry) => entry.phrase);
  const list = phrases.length > 1 ? `${phrases.slice(0, -1).join(", ")} or ${phrases.at(-1)}` : (phrases[0] ?? "");
  return `Choose an authentication: ${list}.`;
}

/** The API's wording: auth.kind must be "none", "bearer", … or "id-jag". */
export function authKindApiMessage(): string {
  const quoted = AUTH_KINDS.map((entry) => JSON.stringify(entry.kind));
  return `auth.kind must be ${quoted.slice(0, -1).join(", ")} or ${quoted.at(-1)}`;
}
