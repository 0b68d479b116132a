import { expect, test } from "bun:test";
import { canonicalJson } from "./chain.ts";
import { canonicalDetails, withholdSecrets } from "./record.ts";

test("an entry's details are stored sorted, secrets withheld and undefined left out, whether flat (a call's) or nested", () => {
  const call = { outcome: "ok", latencyMs: 12, accessLogId: "019a", errorSummary: null, credentialUserId: "u2" };
  expect(canonicalDetails(call)).toBe('{"accessLogId":"019a","credentialUserId":"[withheld]","errorSummary":null,"latencyMs":12,"outcome":"ok"}');
  const cases: Record<string, unknown>[] = [
    call,
    { ...call, credentialUserId: null },
    { b: 1, a: "x", token: undefined, secretReplaced: true, tokens: 3, gone: undefined, "10": "n", "9": "m", fn: () => 1 },
    { name: "k", nested: { token: "s", z: [1, { b: 2, a: 1 }], when: undefined }, list: ["x", { password: "p" }] },
    {},
  ];
  // The general path (the trail's spelling since its first entry) is the reference: the hashes depend on it.
  for (const details of cases) expect(canonicalDetails(details)).toBe(canonicalJson(withholdSecrets(details)));
});
