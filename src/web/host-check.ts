/**
 * DNS rebinding defence. A page on evil.example can make its name resolve to the gateway's address;
 * the browser then treats the gateway as evil.example's own origin and sends `Host: evil.example`
 * (and `Origin: http://evil.example`). So requests are served only under BASE_URL's host (and the
 * operator's ALLOWED_HOSTS), and "same origin" means BASE_URL's origin — never the request's own
 * Host, which the attacker picks. With a loopback BASE_URL, the other loopback names are the same
 * machine and no rebound name can be one of them, so they are served too.
 */

/** A host name and its effective port (the scheme's default when none is written). */
type HostPort = { hostname: string; port: string };

export type AllowedHost = { hostname: string; port: string | null };

// A Host header is a name or an IP literal and an optional port: nothing a URL parser could read
// as userinfo or a path.
const HOST_SHAPE = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/;
const DEFAULT_PORT: Record<string, string> = { "http:": "80", "https:": "443" };

export const MISDIRECTED =
  "This gateway answers only at the address in its BASE_URL, so this request was refused (an operator can allow more names with ALLOWED_HOSTS).";

/** Parses `name[:port]` (an ALLOWED_HOSTS entry); null when it is not one. */
export function parseAllowedHost(entry: string): AllowedHost | null {
  const match = HOST_SHAPE.exec(entry);
  if (!match) return null;
  const hostname = hostnameOf(match[1]!);
  if (hostname === null) return null;
  return { hostname, port: match[2] === undefined ? null : String(Number(match[2])) };
}

type HostConfig = { baseUrl: string; allowedHosts: AllowedHost[] };

// Every request asks, nearly always with the same few Host headers: the answer is kept per config
// (a config never changes once made) and per header, a few names at most; a flood of new names
// only ever empties the memo, never grows it.
const answered = new WeakMap<HostConfig, Map<string, boolean>>();
const REMEMBERED_HOSTS = 32;

/** True when a request with this Host header may be served. */
export function isServedHost(host: string | null, config: HostConfig): boolean {
  if (host === null) return false;
  let known = answered.get(config);
  if (known === undefined) {
    known = new Map();
    answered.set(config, known);
  }
  let served = known.get(host);
  if (served === undefined) {
    served = decideServed(host, config);
    if (known.size >= REMEMBERED_HOSTS) known.clear();
    known.set(host, served);
  }
  return served;
}

function decideServed(host: string, config: HostConfig): boolean {
  const base = new URL(config.baseUrl);
  const asked = readHost(host, base.protocol);
  if (asked === null) return false;
  if (asked.hostname === base.hostname && asked.port === effectivePort(base)) return true;
  if (config.allowedHosts.some((a) => a.hostname === asked.hostname && (a.port === null || a.port === asked.port))) return true;
  // The port may differ from BASE_URL's behind a local TLS front; a loopback name is never rebound.
  return isLoopback(base.hostname) && isLoopback(asked.hostname);
}

/** True when a browser `Origin` is the gateway's own: BASE_URL's, or its loopback twin. */
export function isOwnOrigin(origin: string, baseUrl: string): boolean {
  const base = new URL(baseUrl);
  if (origin === base.origin) return true;
  if (!isLoopback(base.hostname)) return false;
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false;
  }
  // Same scheme and port: only the gateway itself listens there under another loopback name.
  return parsed.origin === origin && parsed.protocol === base.protocol && effectivePort(parsed) === effectivePort(base) && isLoopback(parsed.hostname);
}

export function misdirected(): Response {
  return new Response(MISDIRECTED, { status: 421, headers: { "content-type": "text/plain; charset=utf-8" } });
}

function readHost(host: string, protocol: string): HostPort | null {
  const match = HOST_SHAPE.exec(host);
  if (!match) return null;
  const hostname = hostnameOf(match[1]!);
  if (hostname === null) return null;
  return { hostname, port: match[2] === undefined ? (DEFAULT_PORT[protocol] ?? "") : String(Number(match[2])) };
}

/** The WHATWG form of a host name: lowercase, IDN as punycode, IPv4 in dotted decimal. */
function hostnameOf(name: string): string | null {
  try {
    return new URL(`http://${name}`).hostname;
  } catch {
    return null;
  }
}

function effectivePort(url: URL): string {
  return url.port || (DEFAULT_PORT[url.protocol] ?? "");
}

function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/**
 * A request with no usable Host header (HTTP/1.0, HAProxy's default check, a mangled name) reaches
 * us with a URL that is only its path, or one no URL parser reads. Such a request is given
 * BASE_URL's origin so that routing can read it; its headers stay as sent, so the Host check above
 * still refuses it everywhere but the health paths.
 */
export function withReadableUrl(request: Request, baseUrl: string): Request {
  if (URL.canParse(request.url)) return request;
  const absolute = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*(.*)$/i.exec(request.url);
  const rest = absolute ? absolute[1]! : request.url;
  const path = rest.startsWith("/") ? rest : `/${rest}`;
  return new Request(new URL(path, new URL(baseUrl).origin), request);
}
