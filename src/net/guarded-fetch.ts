import { isIP } from "node:net";
import { checkUpstreamUrl, type Resolver, type UpstreamAllowList, type UrlCheck } from "./url-policy.ts";
import { DEFAULT_RESPONSE_BUDGET, holdToBudget, isReadPerEvent, type ResponseBudget } from "./response-budget.ts";

export { DEFAULT_RESPONSE_BUDGET, ResponseTooLarge, type ResponseBudget } from "./response-budget.ts";

export class UpstreamUrlRefused extends Error {
  override name = "UpstreamUrlRefused";

  constructor(readonly reason: string) {
    super(reason);
  }
}

export type GuardedFetchOptions = {
  allow: UpstreamAllowList;
  resolve?: Resolver;
  maxRedirects?: number;
  /** What each response may cost (DEFAULT_RESPONSE_BUDGET if not given); a function to vary it by method. */
  budget?: ResponseBudget | ((method: string) => ResponseBudget);
};

type Hop = { url: URL; method: string; headers: Headers; body: ArrayBuffer | string | null };

const PASSED_FOR_MS = 5_000;
const PASSED_CHECKS = 512;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const BODY_HEADERS = ["content-type", "content-length", "content-encoding", "content-language", "content-location"];
// A credential can ride in any header (connections with auth_kind "header"), and a session id
// belongs to one server, so a redirect to another origin carries only these.
const CROSS_ORIGIN_HEADERS = new Set(["accept", "accept-language", "user-agent", "mcp-protocol-version"]);

export function createGuardedFetch(options: GuardedFetchOptions): typeof fetch {
  const maxRedirects = options.maxRedirects ?? 5;
  const budgetFor = typeof options.budget === "function" ? options.budget : (): ResponseBudget => (options.budget as ResponseBudget | undefined) ?? DEFAULT_RESPONSE_BUDGET;

  async function guardedFetch(input: string | URL | Request, init?: BunFetchRequestInit): Promise<Response> {
    if (typeof input === "string" && isPlainPost(init)) {
      const sent = await sendPlainPost(input, init);
      if (sent) return sent;
    }
    let hop: Hop;
    let signal: AbortSignal | undefined;
    let redirect: RequestRedirect;
    const body = init?.body;
    if (!(input instanceof Request) && (body === undefined || body === null || typeof body === "string")) {
      // The common case, every MCP message the SDK sends: a URL and a string body, which can be sent
      // again after a 307/308 as it is.
      hop = { url: new URL(input), method: (init?.method ?? "GET").toUpperCase(), headers: new Headers(init?.headers), body: body ?? null };
      signal = init?.signal ?? undefined;
      redirect = init?.redirect ?? "follow";
    } else {
      const request = new Request(input, init);
      // Buffered so that a 307/308 can send it again.
      const buffered = request.body === null ? null : await request.arrayBuffer();
      hop = { url: new URL(request.url), method: request.method, headers: new Headers(request.headers), body: buffered };
      signal = request.signal;
      redirect = request.redirect;
    }
    const budget = budgetFor(hop.method);
    const deadline = startDeadline(budget.deadlineMs);
    if (deadline) signal = signal ? AbortSignal.any([signal, deadline.signal]) : deadline.signal;
    try {
      for (let redirects = 0; ; redirects++) {
        const response = await sendChecked(hop, signal, init);
        const location = response.headers.get("location");
        if (!REDIRECT_STATUSES.has(response.status) || location === null || redirect === "manual") {
          // A stream read per event has no end to wait for: its deadline was for the headers.
          if (isReadPerEvent(response, budget)) deadline?.clear();
          return presentAs(holdToBudget(response, budget, () => deadline?.clear()), hop.url, redirects > 0);
        }
        await response.body?.cancel();
        if (redirect === "error") throw new TypeError(`${hop.url.origin} answered with a redirect`);
        if (redirects >= maxRedirects) throw new TypeError(`${hop.url.origin} redirected more than ${maxRedirects} times`);
        hop = redirectHop(hop, response.status, new URL(location, hop.url));
      }
    } catch (error) {
      deadline?.clear();
      throw error;
    }
  }

  // Every call to an upstream goes through here: a passed check is reused for a few seconds per
  // origin. The socket still goes to the address that was checked, so this cannot be rebound.
  const passed = new Map<string, { check: Extract<UrlCheck, { ok: true }>; until: number }>();
  async function checkOrigin(url: URL): Promise<UrlCheck> {
    const cached = passed.get(url.origin);
    if (cached && cached.until > Date.now()) return cached.check;
    const check = await checkUpstreamUrl(url.href, options.allow, options.resolve);
    if (check.ok) {
      if (passed.size >= PASSED_CHECKS) passed.delete(passed.keys().next().value as string);
      passed.set(url.origin, { check, until: Date.now() + PASSED_FOR_MS });
    }
    return check;
  }

  // The hot path, every call to an upstream: a POST of a string, redirects not followed, headers as a
  // record. The same checks as sendChecked, with what they derive from the URL kept per URL until its
  // origin's check is due again: no URL or Headers object made per request. Null: take the long way.
  const prepared = new Map<string, CheckedTarget & { until: number }>();
  async function sendPlainPost(input: string, init: PlainPost): Promise<Response | null> {
    const budget = budgetFor("POST");
    if (budget.deadlineMs !== null) return null;
    const signal = init.signal ?? undefined;
    signal?.throwIfAborted();
    let known = prepared.get(input);
    if (known === undefined || known.until <= Date.now()) {
      const url = URL.parse(input);
      if (url === null) return null;
      const check = await checkOrigin(url);
      if (!check.ok) throw new UpstreamUrlRefused(check.reason);
      known = { ...checkedTarget(url, check), until: passed.get(url.origin)?.until ?? 0 };
      if (prepared.size >= PASSED_CHECKS) prepared.delete(prepared.keys().next().value as string);
      prepared.set(input, known);
    }
    const tls = known.serverName === undefined ? undefined : { serverName: known.serverName };
    const response = await fetch(known.target.href, { ...init, unix: undefined, headers: { ...init.headers, host: known.host }, redirect: "manual", signal, tls });
    return presentAs(holdToBudget(response, budget, () => undefined), known.url, false);
  }

  // Connects to the address that was checked, never to a fresh DNS answer (DNS rebinding).
  async function sendChecked(hop: Hop, signal: AbortSignal | undefined, init: BunFetchRequestInit | undefined): Promise<Response> {
    signal?.throwIfAborted();
    const check = await checkOrigin(hop.url);
    if (!check.ok) throw new UpstreamUrlRefused(check.reason);
    const { target, host, serverName } = checkedTarget(hop.url, check);
    // A hop's headers are its own (redirectHop copies them), so the Host can be set in place.
    const headers = hop.headers;
    headers.set("host", host);
    const tls = serverName === undefined ? init?.tls : { ...init?.tls, serverName };
    // A unix socket path would send the request somewhere no check has looked at.
    const sent = { ...init, unix: undefined, method: hop.method, headers, body: hop.body, redirect: "manual" as const };
    return fetch(target, { ...sent, signal, tls });
  }

  // preconnect would resolve and connect outside the checks, so it does nothing here.
  return Object.assign(guardedFetch, { preconnect: (): void => {} });
}

/** Aborts with a TimeoutError once `ms` passed, unless cleared first; null for no deadline. */
function startDeadline(ms: number | null): { signal: AbortSignal; clear(): void } | null {
  if (ms === null) return null;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException(`no complete answer within ${ms} ms`, "TimeoutError")), ms);
  // A body read in full without a counting stream leaves its timer behind: it must not keep the process up.
  timer.unref();
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}

function redirectHop(hop: Hop, status: number, next: URL): Hop {
  const headers = new Headers(hop.headers);
  let { method, body } = hop;
  const keepsMethod = status === 307 || status === 308;
  if (status === 303 ? method !== "GET" && method !== "HEAD" : !keepsMethod && method === "POST") {
    method = "GET";
    body = null;
  }
  if (next.origin !== hop.url.origin) {
    body = null;
    for (const name of [...headers.keys()]) if (!CROSS_ORIGIN_HEADERS.has(name)) headers.delete(name);
  }
  if (body === null) for (const name of BODY_HEADERS) headers.delete(name);
  return { url: next, method, headers, body };
}

type PlainPost = BunFetchRequestInit & { method: "POST"; body: string; headers: Record<string, string>; redirect: "manual" };

/** A POST of a string body with its headers as a plain record (no "host" among them), redirects not followed. */
function isPlainPost(init: BunFetchRequestInit | undefined): init is PlainPost {
  if (init === undefined || init.method !== "POST" || typeof init.body !== "string" || init.redirect !== "manual" || init.tls !== undefined) return false;
  const headers = init.headers;
  if (!isHeaderRecord(headers)) return false;
  for (const name in headers) if (name.toLowerCase() === "host") return false;
  return true;
}

/** Headers given as a plain record of names and values (not a Headers object, not a list of pairs). */
export function isHeaderRecord(headers: HeadersInit | undefined): headers is Record<string, string> {
  return typeof headers === "object" && headers !== null && !Array.isArray(headers) && !(headers instanceof Headers);
}

type CheckedTarget = { url: URL; target: URL; host: string; serverName: string | undefined };

/**
 * Where a request to a checked URL goes: the socket to the address that was checked, the Host
 * header as the URL names it, and SNI and the certificate check by the name (https to a name only).
 */
function checkedTarget(url: URL, check: Extract<UrlCheck, { ok: true }>): CheckedTarget {
  const address = check.addresses[0] as string;
  const target = new URL(url);
  target.hostname = address.includes(":") ? `[${address}]` : address;
  const named = isIP(url.hostname.replace(/^\[|\]$/g, "")) === 0;
  return { url, target, host: url.host, serverName: url.protocol === "https:" && named ? url.hostname : undefined };
}

// The response came from an IP-addressed URL; callers should see the URL they asked for.
function presentAs(response: Response, url: URL, redirected: boolean): Response {
  return Object.defineProperties(response, { url: { value: url.href }, redirected: { value: redirected } });
}
