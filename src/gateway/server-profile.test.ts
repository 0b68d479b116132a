import { describe, expect, test } from "bun:test";
import { buildGatewayProfile, GATEWAY_INSTRUCTIONS, MAX_INSTRUCTIONS, mergeInstructions } from "./server-profile.ts";

const connection = (name: string, serverInstructions: string | null, serverCapabilities: unknown = null) => ({ name, serverInstructions, serverCapabilities });

describe("what the gateway announces", () => {
  test("instructions: the gateway's own, then each connection's under its name, in name order", () => {
    const merged = mergeInstructions([connection("zeta", "Z rules."), connection("alpha", "A rules."), connection("quiet", null)]);
    expect(merged).toBe(`${GATEWAY_INSTRUCTIONS}\n\n## alpha (tools named alpha__…)\nA rules.\n\n## zeta (tools named zeta__…)\nZ rules.`);
  });

  test("the whole stays under 16 KB, and says how many connections' instructions were left out", () => {
    const many = Array.from({ length: 20 }, (_, i) => connection(`c${String(i).padStart(2, "0")}`, "x".repeat(2048)));
    const merged = mergeInstructions(many);
    expect(merged.length).toBeLessThanOrEqual(MAX_INSTRUCTIONS);
    expect(merged).toContain("## c00 ");
    expect(merged).not.toContain("## c19 ");
    expect(merged).toMatch(/Instructions of \d+ more connections left out/);
  });

  test("capabilities: tools always; the rest only when a connection offers them", () => {
    expect(buildGatewayProfile([connection("a", null, { tools: {} })]).capabilities).toEqual({ tools: { listChanged: true } });
    const offered = buildGatewayProfile([connection("a", null, { tools: {}, prompts: {} }), connection("b", null, { tasks: { list: {}, requests: { tools: { call: {} } } } })]);
    expect(offered.capabilities).toEqual({ tools: { listChanged: true }, prompts: { listChanged: true }, tasks: { list: {}, requests: { tools: { call: {} } } } });
    const resources = buildGatewayProfile([connection("a", null, { resources: {} }), connection("b", null, { resources: { subscribe: true }, logging: {}, completions: {} })]);
    expect(resources.capabilities).toEqual({ tools: { listChanged: true }, resources: { listChanged: true, subscribe: true }, logging: {}, completions: {} });
    expect(buildGatewayProfile([connection("a", null, { resources: {} })]).capabilities.resources).toEqual({ listChanged: true });
  });
});
