import { lookup } from "node:dns/promises";
import { isIP } from "node:net";

export type Cidr = { family: 4 | 6; base: bigint; prefix: number };
export type UpstreamAllowList = { hosts: Set<string>; cidrs: Cidr[] };
export type UrlCheck = { ok: true; url: URL; addresses: string[] } | { ok: false; reason: string };
export type Resolver = (hostname: string) => Promise<string[]>;

type Address = { family: 4 | 6; value: bigint; text: string };

const ALLOW_HINT = "an operator can allow it with UPSTREAM_ALLOW";

// Anything not globally reachable (IANA special-purpose registries). Order matters: the first
// match names the address, so narrow ranges come before the ranges that contain them.
const SPECIAL_RANGES: [Cidr, string][] = (
  [
    ["0.0.0.0/32", "an unspecified address"],
    ["0.0.0.0/8", "a “this network” address"],
    ["10.0.0.0/8", "a private address"],
    ["100.64.0.0/10", "a shared (CGNAT) address"],
    ["127.0.0.0/8", "a loopback address"],
    ["169.254.0.0/16", "a link-local (cloud metadata) address"],
    ["172.16.0.0/12", "a private address"],
    ["192.0.0.0/24", "an IETF protocol address"],
    ["192.0.2.0/24", "a documentation address"],
    ["192.88.99.0/24", "a 6to4 relay address"],
    ["192.168.0.0/16", "a private address"],
    ["198.18.0.0/15", "a benchmarking address"],
    ["198.51.100.0/24", "a documentation address"],
    ["203.0.113.0/24", "a documentation address"],
    ["224.0.0.0/4", "a multicast address"],
    ["255.255.255.255/32", "a broadcast address"],
    ["240.0.0.0/4", "a reserved address"],
    ["::/128", "an unspecified address"],
    ["::1/128", "a loopback address"],
    ["::/96", "a deprecated IPv4-compatible address"],
    ["64:ff9b:1::/48", "a local NAT64 address"],
    ["100::/64", "a discard-only address"],
    ["2001::/23", "an IETF protocol (Teredo, benchmarking) address"],
    ["2001:db8::/32", "a documentation address"],
    ["2002::/16", "a 6to4 address"],
    ["3fff::/20", "a documentation address"],
    ["5f00::/16", "an SRv6 address"],
    ["fd00:ec2::254/128", "a cloud metadata address"],
    ["fc00::/7", "a unique local (private) address"],
    ["fe80::/10", "a link-local address"],
    ["fec0::/10", "a site-local address"],
    ["ff00::/8", "a multicast address"],
  ] as const
).map(([cidr, label]) => [parseCidr(cidr) as Cidr, label]);

// The well-known NAT64 prefix reaches the IPv4 address in its last 32 bits.
const NAT64 = parseCidr("64:ff9b::/96") as Cidr;

export function parseUpstreamAllow(
  value: string,
): { ok: true; allow: UpstreamAllowList } | { ok: false; errors: string[] } {
  const allow: UpstreamAllowList = { hosts: new Set(), cidrs: [] };
  const errors: string[] = [];
  for (const entry of value.split(",").map((part) => part.trim())) {
    if (entry === "") continue;
    const parsed = entry.includes("://")
      ? `“${entry}” is a URL; list only its host`
      : entry.includes("/") ? parseCidr(entry) : parseHostEntry(entry);
    if (typeof parsed === "string") errors.push(parsed);
    else if ("host" in parsed) allow.hosts.add(parsed.host);
    else allow.cidrs.push(parsed);
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, allow };
}

export async function checkUpstreamUrl(
  raw: string,
  allow: UpstreamAllowList,
  resolve: Resolver = lookupAll,
): Promise<UrlCheck> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return refuse(`“${raw}” is not a URL; write it like https://mcp.example.com/mcp`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return refuse(`${url.protocol} URLs are not supported; use an https:// URL`);
  }
  if (url.username !== "" || url.password !== "") {
    return refuse("The URL contains a user name or password; remove it and store the credential with the connection");
  }
  if (url.hostname === "") return refuse("The URL has no host");

  const literal = parseAddress(url.hostname);
  const hostAllowed = literal === null && allow.hosts.has(url.hostname);
  const found = literal ? [literal.text] : await resolveOrNothing(resolve, url.hostname);
  if (found.length === 0) return refuse(`${url.hostname} could not be resolved; check the host name`);

  const addresses: Address[] = [];
  for (const text of found) {
    const address = parseAddress(text);
    if (!address) return refuse(`${url.hostname} resolves to “${text}”, which is not an IP address`);
    const label = hostAllowed || isAllowedAddress(address, allow) ? null : describeSpecial(address);
    if (label) {
      const shown = displayAddress(address);
      return refuse(
        literal ? `${shown} is ${label}; ${ALLOW_HINT}` : `${url.hostname} resolves to ${shown}, ${label}; ${ALLOW_HINT}`,
      );
    }
    addresses.push(address);
  }
  const inAllowedRanges = addresses.every((address) => isAllowedAddress(address, allow));
  if (url.protocol === "http:" && !hostAllowed && !inAllowedRanges) {
    return refuse(`${url.host} needs https; plain http is only for hosts an operator lists in UPSTREAM_ALLOW`);
  }
  return { ok: true, url, addresses: [...new Set(addresses.map((address) => address.text))] };
}

async function resolveOrNothing(resolve: Resolver, hostname: string): Promise<string[]> {
  try {
    return await resolve(hostname);
  } catch {
    return [];
  }
}

async function lookupAll(hostname: string): Promise<string[]> {
  const results = await lookup(hostname, { all: true });
  return results.map((result) => result.address);
}

function refuse(reason: string): UrlCheck {
  return { ok: false, reason };
}

function parseHostEntry(entry: string): Cidr | { host: string } | string {
  const address = parseAddress(entry);
  if (address) return { family: address.family, base: address.value, prefix: address.family === 4 ? 32 : 128 };
  if (entry.includes("*")) return `“${entry}”: wildcards are not supported; list each host`;
  const notHost = `“${entry}” is not a host name, IP address or CIDR`;
  if (/^[^\s/\\@?#[\]]+:\d+$/.test(entry)) return `“${entry}” has a port; list the host alone`;
  if (/[\s/\\:@?#[\]]/.test(entry)) return notHost;
  let hostname: string;
  try {
    hostname = new URL(`http://${entry}`).hostname;
  } catch {
    return notHost;
  }
  // WHATWG URL turns "127.1" or "0x7f000001" into an IPv4 address: match it as one.
  const normalized = parseAddress(hostname);
  return normalized ? parseHostEntry(normalized.text) : { host: hostname };
}

function parseCidr(entry: string): Cidr | string {
  const [baseText = "", bitsText = "", ...rest] = entry.split("/");
  const address = parseAddress(baseText);
  if (!address || rest.length > 0) return `“${entry}” is not a CIDR: ${baseText} is not an IP address`;
  const width = address.family === 4 ? 32 : 128;
  const unmapped = address.family === 4 && isIP(baseText.replace(/^\[|\]$/g, "")) === 6;
  const prefix = /^\d{1,3}$/.test(bitsText) ? Number(bitsText) - (unmapped ? 96 : 0) : -1;
  if (prefix < 0 || prefix > width) {
    return `“${entry}” has a prefix length outside ${unmapped ? "96–128" : `0–${width}`}`;
  }
  const hostBits = BigInt(width - prefix);
  const base = (address.value >> hostBits) << hostBits;
  if (base !== address.value) {
    return `“${entry}” has bits set after its prefix; did you mean ${formatAddress(address.family, base)}/${prefix}?`;
  }
  return { family: address.family, base, prefix };
}

// IPv4-mapped IPv6 comes back as plain IPv4, so it is checked and connected to as what it is.
function parseAddress(raw: string): Address | null {
  const text = raw.replace(/^\[|\]$/g, "").split("%")[0] ?? "";
  const family = isIP(text);
  if (family === 4) return ipv4(text.split(".").reduce((value, part) => (value << 8n) | BigInt(part), 0n));
  if (family !== 6) return null;
  let canonical: string;
  try {
    canonical = new URL(`http://[${text}]`).hostname.slice(1, -1);
  } catch {
    return null;
  }
  const [head = "", tail] = canonical.split("::");
  const left = head === "" ? [] : head.split(":");
  const right = tail === undefined || tail === "" ? [] : tail.split(":");
  const groups = [...left, ...Array<string>(8 - left.length - right.length).fill("0"), ...right];
  const value = groups.reduce((sum, group) => (sum << 16n) | BigInt(`0x${group}`), 0n);
  if (value >> 32n === 0xffffn) return ipv4(value & 0xffffffffn);
  return { family: 6, value, text: canonical };
}

function ipv4(value: bigint): Address {
  return { family: 4, value, text: formatAddress(4, value) };
}

function formatAddress(family: 4 | 6, value: bigint): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((shift) => (value >> shift) & 255n).join(".");
  const groups = [112n, 96n, 80n, 64n, 48n, 32n, 16n, 0n].map((shift) => ((value >> shift) & 0xffffn).toString(16));
  return new URL(`http://[${groups.join(":")}]`).hostname.slice(1, -1);
}

function contains(cidr: Cidr, address: Address): boolean {
  const hostBits = BigInt((cidr.family === 4 ? 32 : 128) - cidr.prefix);
  return cidr.family === address.family && address.value >> hostBits === cidr.base >> hostBits;
}

function isAllowedAddress(address: Address, allow: UpstreamAllowList): boolean {
  return allow.cidrs.some((cidr) => contains(cidr, address));
}

function describeSpecial(address: Address): string | null {
  if (contains(NAT64, address)) return describeSpecial(ipv4(address.value & 0xffffffffn));
  return SPECIAL_RANGES.find(([cidr]) => contains(cidr, address))?.[1] ?? null;
}

function displayAddress(address: Address): string {
  if (!contains(NAT64, address)) return address.text;
  return `${address.text} (NAT64 for ${formatAddress(4, address.value & 0xffffffffn)})`;
}
