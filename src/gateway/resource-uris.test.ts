import { describe, expect, test } from "bun:test";
import { UriTemplate } from "@modelcontextprotocol/server";
import { rewriteToolMeta, unwrapResourceUri, wrapContentUri, wrapResourceUri } from "./resource-uris.ts";

const HOSTILE = [
  "file:///README.md",
  "",
  "/",
  "mcpgw://other/file:///etc/passwd",
  "mcpgw://",
  "../../beta/file:///x",
  "file:///a%2Fb%20c?x=1&y=%zz#frag",
  "https://user:pass@example.com:8443/p?q#f",
  "ui://widget/app.html",
  "{path}",
  "weird\nline\u0000null",
  "ünïcødé://ñ/😀",
  "x".repeat(5000),
];

describe("gateway resource URIs", () => {
  test("every URI comes back exactly, to the connection it was wrapped for", () => {
    for (const connection of ["alpha", "a-1", "0"]) {
      for (const uri of HOSTILE) expect(unwrapResourceUri(wrapResourceUri(connection, uri))).toEqual({ connectionName: connection, uri });
    }
  });

  test("two connections' same URI never meet", () => {
    for (const uri of HOSTILE) expect(wrapResourceUri("alpha", uri)).not.toBe(wrapResourceUri("beta", uri));
  });

  test("what is not a gateway URI, or names no possible connection, unwraps to nothing", () => {
    for (const uri of ["file:///README.md", "mcpgw://alpha", "mcpgw:///file", "mcpgw://Alpha/x", "mcpgw://al_pha/x", "mcpgw://al%2Fpha/x", "MCPGW://alpha/x", "mcpgw://gateway__x/y"]) {
      expect(unwrapResourceUri(uri)).toBeNull();
    }
  });

  test("a template expanded by the client unwraps to what the upstream's own template expands to", () => {
    const cases: [string, Record<string, string>][] = [
      ["file:///docs/{path}", { path: "a b/ü?.md" }],
      ["file:///{+path}", { path: "dir/sub dir/x.md" }],
      ["test://items/{id}{?fields,sort}", { id: "4/2", fields: "a,b", sort: "%" }],
      ["repo://{owner}/{repo}/blob{/path*}", { owner: "o", repo: "r", path: "src" }],
    ];
    for (const [template, variables] of cases) {
      const expanded = new UriTemplate(wrapResourceUri("alpha", template)).expand(variables);
      expect(unwrapResourceUri(expanded)).toEqual({ connectionName: "alpha", uri: new UriTemplate(template).expand(variables) });
    }
  });

  test("a tool's MCP Apps resource (ui.resourceUri, openai/outputTemplate) points at the gateway; the rest is kept", () => {
    const meta = { ui: { resourceUri: "ui://widget/app.html", visibility: ["model"] }, "openai/outputTemplate": "ui://widget/old.html", other: { resourceUri: "ui://not-this" } };
    expect(rewriteToolMeta("alpha", meta)).toEqual({
      ui: { resourceUri: "mcpgw://alpha/ui://widget/app.html", visibility: ["model"] },
      "openai/outputTemplate": "mcpgw://alpha/ui://widget/old.html",
      other: { resourceUri: "ui://not-this" },
    });
    expect(meta.ui.resourceUri).toBe("ui://widget/app.html");
    expect(rewriteToolMeta("alpha", undefined)).toBeUndefined();
    expect(rewriteToolMeta("alpha", { ui: "nonsense" })).toEqual({ ui: "nonsense" });
  });

  test("embedded resources and resource links in content point at the gateway", () => {
    expect(wrapContentUri("a", { type: "resource_link", uri: "file:///x", name: "x" })).toEqual({ type: "resource_link", uri: "mcpgw://a/file:///x", name: "x" });
    expect(wrapContentUri("a", { type: "resource", resource: { uri: "file:///x", text: "t" } })).toEqual({ type: "resource", resource: { uri: "mcpgw://a/file:///x", text: "t" } });
    expect(wrapContentUri("a", { type: "text", text: "file:///x" })).toEqual({ type: "text", text: "file:///x" });
  });
});
