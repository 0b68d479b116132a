import { describe, expect, test } from "bun:test";
import { checkUpstreamUrl, parseUpstreamAllow, type Resolver, type UpstreamAllowList } from "./url-policy.ts";

function allowList(value: string): UpstreamAllowList {
  const parsed = parseUpstreamAllow(value);
  if (!parsed.ok) throw new Error(parsed.errors.join("\n"));
  return parsed.allow;
}

function resolveFrom(answers: Record<string, string[]>): Resolver {
  return async (hostname) => {
    const found = answers[hostname];
    if (!found) throw new Error(`ENOTFOUND ${hostname}`);
    return found;
  };
}

const noDns: Resolver = async (hostname) => {
  throw new Error(`no DNS lookup expected, got ${hostname}`);
};
const nothingAllowed = allowList("");

async function reasonFor(url: string, allow = nothingAllowed, resolve = noDns): Promise<string> {
  const check = await checkUpstreamUrl(url, allow, resolve);
  if (check.ok) throw new Error(`${url} was accepted`);
  return check.reason;
}

describe("parseUpstreamAllow", () => {
  test("reads hosts, addresses and CIDRs, ignoring blanks and case", () => {
    const parsed = parseUpstreamAllow(" 127.0.0.1, 10.0.0.0/8 ,MCP.Internal,, ::1, fd00::/8, [::ffff:192.168.0.0]/112, 127.1 ");
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect([...parsed.allow.hosts]).toEqual(["mcp.internal"]);
    expect(parsed.allow.cidrs).toEqual([
      { family: 4, base: 0x7f000001n, prefix: 32 },
      { family: 4, base: 0x0a000000n, prefix: 8 },
      { family: 6, base: 1n, prefix: 128 },
      { family: 6, base: 0xfdn << 120n, prefix: 8 },
      { family: 4, base: 0xc0a80000n, prefix: 16 },
      { family: 4, base: 0x7f000001n, prefix: 32 },
    ]);
  });

  test("an empty value allows nothing", () => {
    expect(parseUpstreamAllow("")).toEqual({ ok: true, allow: { hosts: new Set(), cidrs: [] } });
  });

  test("lists every bad entry at once, by name", () => {
    const bad = ["10.0.0.1/8", "10.0.0.0/33", "300.1.2.3/8", "foo bar", "*.example.com", "mcp.internal:8080", "http://x"];
    const parsed = parseUpstreamAllow(["127.0.0.1", ...bad].join(","));
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.errors).toHaveLength(bad.length);
    for (const [index, entry] of bad.entries()) expect(parsed.errors[index]).toContain(`“${entry}”`);
    expect(parsed.errors[0]).toContain("did you mean 10.0.0.0/8?");
  });
});

describe("checkUpstreamUrl refuses non-global addresses", () => {
  const cases: [string, string][] = [
    ["https://127.0.0.1/mcp", "a loopback address"],
    ["https://2130706433/", "a loopback address"],
    ["https://0x7f000001/", "a loopback address"],
    ["https://127.1/", "a loopback address"],
    ["https://１２７.０.０.１/", "a loopback address"],
    ["https://[::ffff:127.0.0.1]/", "a loopback address"],
    ["https://[::ffff:7f00:1]/", "a loopback address"],
    ["https://[::1]/", "a loopback address"],
    ["https://169.254.169.254/latest/meta-data", "a link-local (cloud metadata) address"],
    ["https://[fd00:ec2::254]/", "a cloud metadata address"],
    ["https://[fe80::1]/", "a link-local address"],
    ["https://10.1.2.3/", "a private address"],
    ["https://172.16.0.1/", "a private address"],
    ["https://172.31.255.255/", "a private address"],
    ["https://192.168.1.1/", "a private address"],
    ["https://[::ffff:192.168.1.1]/", "a private address"],
    ["https://100.64.0.1/", "a shared (CGNAT) address"],
    ["https://[fc00::1]/", "a unique local (private) address"],
    ["https://[fd12:3456::1]/", "a unique local (private) address"],
    ["https://0.0.0.0/", "an unspecified address"],
    ["https://[::]/", "an unspecified address"],
    ["https://0.1.2.3/", "a “this network” address"],
    ["https://224.0.0.1/", "a multicast address"],
    ["https://[ff02::1]/", "a multicast address"],
    ["https://255.255.255.255/", "a broadcast address"],
    ["https://240.0.0.1/", "a reserved address"],
    ["https://192.0.2.1/", "a documentation address"],
    ["https://198.18.0.1/", "a benchmarking address"],
    ["https://[2001:db8::1]/", "a documentation address"],
    ["https://[2002:7f00:1::]/", "a 6to4 address"],
    ["https://[::7f00:1]/", "a deprecated IPv4-compatible address"],
  ];
  for (const [url, label] of cases) {
    test(`${url} is ${label}`, async () => {
      expect(await reasonFor(url)).toEndWith(`is ${label}; an operator can allow it with UPSTREAM_ALLOW`);
    });
  }

  test("the reason names the address and the way out", async () => {
    expect(await reasonFor("http://127.0.0.1:8080/mcp")).toBe(
      "127.0.0.1 is a loopback address; an operator can allow it with UPSTREAM_ALLOW",
    );
  });

  test("an address behind the NAT64 prefix is judged by the IPv4 address it reaches", async () => {
    expect(await reasonFor("https://[64:ff9b::7f00:1]/")).toBe(
      "64:ff9b::7f00:1 (NAT64 for 127.0.0.1) is a loopback address; an operator can allow it with UPSTREAM_ALLOW",
    );
  });

  test("public addresses pass, 172.32.0.1 included, without a DNS lookup", async () => {
    for (const url of ["https://8.8.8.8/", "https://172.32.0.1/", "https://[2606:4700::1111]/", "https://[::ffff:8.8.4.4]/"]) {
      const check = await checkUpstreamUrl(url, nothingAllowed, noDns);
      expect(check.ok).toBe(true);
    }
  });
});

describe("checkUpstreamUrl refuses unusable URLs", () => {
  test("credentials, other schemes, missing hosts and non-URLs", async () => {
    expect(await reasonFor("https://user:pass@mcp.example.com/")).toContain("user name or password");
    expect(await reasonFor("https://token@mcp.example.com/")).toContain("user name or password");
    for (const url of ["ftp://mcp.example.com/", "file:///etc/passwd", "javascript:alert(1)", "ws://mcp.example.com/"]) {
      expect(await reasonFor(url)).toContain("URLs are not supported; use an https:// URL");
    }
    for (const url of ["http://", "https://:443/", "mcp.example.com/mcp", ""]) {
      expect(await reasonFor(url)).toContain("is not a URL");
    }
  });

  test("plain http to a public host needs https", async () => {
    const resolve = resolveFrom({ "mcp.example.com": ["93.184.216.34"] });
    expect(await reasonFor("http://mcp.example.com/mcp", nothingAllowed, resolve)).toBe(
      "mcp.example.com needs https; plain http is only for hosts an operator lists in UPSTREAM_ALLOW",
    );
    expect((await checkUpstreamUrl("https://mcp.example.com/mcp", nothingAllowed, resolve)).ok).toBe(true);
  });

  test("a name that does not resolve, or resolves to nothing, is refused", async () => {
    const resolve = resolveFrom({ "empty.example.com": [] });
    expect(await reasonFor("https://gone.example.com/", nothingAllowed, resolve)).toBe(
      "gone.example.com could not be resolved; check the host name",
    );
    expect(await reasonFor("https://empty.example.com/", nothingAllowed, resolve)).toContain("could not be resolved");
  });
});

describe("checkUpstreamUrl checks every resolved address", () => {
  test("a public-looking name that resolves to a private address is refused", async () => {
    const resolve = resolveFrom({ "mcp.example.com": ["10.0.0.5"] });
    expect(await reasonFor("https://mcp.example.com/mcp", nothingAllowed, resolve)).toBe(
      "mcp.example.com resolves to 10.0.0.5, a private address; an operator can allow it with UPSTREAM_ALLOW",
    );
  });

  test("one private address among public ones is enough to refuse", async () => {
    const resolve = resolveFrom({ "mcp.example.com": ["93.184.216.34", "2606:2800::1", "::ffff:127.0.0.1"] });
    expect(await reasonFor("https://mcp.example.com/", nothingAllowed, resolve)).toContain(
      "resolves to 127.0.0.1, a loopback address",
    );
  });

  test("all-public answers pass, unmapped and without duplicates", async () => {
    const resolve = resolveFrom({ "mcp.example.com": ["93.184.216.34", "::ffff:93.184.216.34", "2606:2800:0::1"] });
    const check = await checkUpstreamUrl("https://MCP.example.com/mcp", nothingAllowed, resolve);
    expect(check).toMatchObject({ ok: true, addresses: ["93.184.216.34", "2606:2800::1"] });
    if (check.ok) expect(check.url.href).toBe("https://mcp.example.com/mcp");
  });

  test("an answer that is not an IP address is refused", async () => {
    const resolve = resolveFrom({ "mcp.example.com": ["not-an-ip"] });
    expect(await reasonFor("https://mcp.example.com/", nothingAllowed, resolve)).toContain("which is not an IP address");
  });
});

describe("UPSTREAM_ALLOW opens ranges and hosts", () => {
  test("an allowed CIDR admits its addresses, over plain http too, and nothing else", async () => {
    const allow = allowList("10.0.0.0/8");
    const resolve = resolveFrom({ "svc.corp": ["10.0.0.7"], "mixed.corp": ["10.0.0.7", "192.168.0.7"] });
    expect(await checkUpstreamUrl("http://10.1.2.3:8080/mcp", allow, noDns)).toMatchObject({ ok: true, addresses: ["10.1.2.3"] });
    expect(await checkUpstreamUrl("http://svc.corp/mcp", allow, resolve)).toMatchObject({ ok: true, addresses: ["10.0.0.7"] });
    expect(await reasonFor("http://mixed.corp/", allow, resolve)).toContain("192.168.0.7, a private address");
    expect(await reasonFor("https://192.168.1.1/", allow)).toContain("a private address");
    expect(await reasonFor("http://8.8.8.8/", allow)).toContain("needs https");
  });

  test("an allowed address also admits its IPv4-mapped spelling", async () => {
    const allow = allowList("127.0.0.1");
    expect(await checkUpstreamUrl("http://[::ffff:127.0.0.1]:3000/", allow, noDns)).toMatchObject({
      ok: true,
      addresses: ["127.0.0.1"],
    });
    expect(await reasonFor("http://127.0.0.2/", allow)).toContain("a loopback address");
  });

  test("an allowed host name is matched exactly and case-insensitively, whatever it resolves to", async () => {
    const allow = allowList("mcp.internal");
    const resolve = resolveFrom({
      "mcp.internal": ["192.168.1.10", "fd00::10"],
      "mcp.internal.example.com": ["192.168.1.10"],
      "other.internal": ["192.168.1.11"],
    });
    expect(await checkUpstreamUrl("http://MCP.Internal:9000/mcp", allow, resolve)).toMatchObject({
      ok: true,
      addresses: ["192.168.1.10", "fd00::10"],
    });
    expect(await reasonFor("http://mcp.internal.example.com/", allow, resolve)).toContain("a private address");
    expect(await reasonFor("http://other.internal/", allow, resolve)).toContain("a private address");
  });
});
