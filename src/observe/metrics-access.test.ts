import { expect, test } from "bun:test";
import { checkMetricsAccess } from "./metrics-access.ts";

const TOKEN = "a-metrics-token-of-32-characters";

test("without a metrics token, loopback peers (IPv4, IPv6, IPv4-mapped) read the metrics and any other peer is refused", () => {
  for (const peer of ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"]) expect(checkMetricsAccess({ token: null, authorization: null, peer })).toEqual({ ok: true });
  for (const peer of ["192.0.2.2", "10.0.0.1", "::ffff:10.0.0.1", "fe80::1", "::", "unknown"]) {
    expect(checkMetricsAccess({ token: null, authorization: null, peer })).toMatchObject({ ok: false, status: 403 });
  }
});

test("with a metrics token, only a request carrying it reads the metrics, loopback or not", () => {
  expect(checkMetricsAccess({ token: TOKEN, authorization: `Bearer ${TOKEN}`, peer: "192.0.2.2" })).toEqual({ ok: true });
  expect(checkMetricsAccess({ token: TOKEN, authorization: `bearer ${TOKEN}`, peer: "10.0.0.1" })).toEqual({ ok: true });
  for (const authorization of [null, `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(1)}`, TOKEN, "Basic eDp5"]) {
    expect(checkMetricsAccess({ token: TOKEN, authorization, peer: "127.0.0.1" })).toMatchObject({ ok: false, status: 401 });
  }
});
