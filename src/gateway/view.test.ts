import { describe, expect, test } from "bun:test";
import { listInView, resolveInView, WORKSPACE_VIEW, type GatewayView, type ItemOrigin } from "./view.ts";

type Route = { connection: string; name: string };
const origin = (route: Route): ItemOrigin => ({ connectionName: route.connection, originalName: route.name });

// As an index holds them: the exposed list, and exposed name → route (a turned-off item is routed, not listed).
const routes = new Map<string, Route>([
  ["alpha__echo", { connection: "alpha", name: "echo" }],
  ["alpha__weird_name--abcdefgh", { connection: "alpha", name: "weird name" }],
  ["alpha__off", { connection: "alpha", name: "off" }],
  ["beta__echo", { connection: "beta", name: "echo" }],
  ["beta__alpha__echo", { connection: "beta", name: "alpha__echo" }],
]);
const listed = [
  { name: "alpha__echo", description: "a" },
  { name: "alpha__weird_name--abcdefgh", description: "w" },
  { name: "beta__echo", description: "b" },
  { name: "beta__alpha__echo", description: "trap" },
];
const alpha: GatewayView = { kind: "connection", connectionName: "alpha" };
const beta: GatewayView = { kind: "connection", connectionName: "beta" };

describe("views", () => {
  test("the workspace view lists and resolves the exposed names as they are", () => {
    expect(listInView(WORKSPACE_VIEW, listed, routes, origin)).toBe(listed);
    expect(resolveInView(WORKSPACE_VIEW, "anything", routes, origin)).toBe("anything");
  });

  test("a connection's view lists only its own items, under their upstream names, fields kept", () => {
    expect(listInView(alpha, listed, routes, origin)).toEqual([
      { name: "echo", description: "a" },
      { name: "weird name", description: "w" },
    ]);
    expect(listInView(beta, listed, routes, origin)).toEqual([
      { name: "echo", description: "b" },
      { name: "alpha__echo", description: "trap" },
    ]);
    // The same list again comes from what was built for this index, not built anew.
    expect(listInView(alpha, listed, routes, origin)).toBe(listInView(alpha, listed, routes, origin));
  });

  test("a connection's view resolves its own upstream names only, turned-off ones included", () => {
    expect(resolveInView(alpha, "echo", routes, origin)).toBe("alpha__echo");
    expect(resolveInView(alpha, "weird name", routes, origin)).toBe("alpha__weird_name--abcdefgh");
    expect(resolveInView(alpha, "off", routes, origin)).toBe("alpha__off");
    // Another connection's tool by either of its names, or an exposed name of its own: unknown.
    expect(resolveInView(alpha, "beta__echo", routes, origin)).toBeNull();
    expect(resolveInView(alpha, "alpha__echo", routes, origin)).toBeNull();
    // An upstream name shaped like another connection's exposed name stays that upstream's.
    expect(resolveInView(beta, "alpha__echo", routes, origin)).toBe("beta__alpha__echo");
  });

  test("items named by URI list through a lookup that unwraps them", () => {
    const unwrap = (uri: string): { connectionName: string; uri: string } | null => {
      const match = /^gw:\/\/([^/]+)\/(.*)$/.exec(uri);
      return match ? { connectionName: match[1]!, uri: decodeURIComponent(match[2]!) } : null;
    };
    const resources = [
      { uri: "gw://alpha/file%3A%2F%2F%2FREADME.md", name: "readme" },
      { uri: "gw://beta/file%3A%2F%2F%2FREADME.md", name: "readme" },
    ];
    const uriOrigin = (u: { connectionName: string; uri: string }): ItemOrigin => ({ connectionName: u.connectionName, originalName: u.uri });
    expect(listInView(beta, resources, { get: unwrap }, uriOrigin, "uri")).toEqual([{ uri: "file:///README.md", name: "readme" }]);
  });
});
