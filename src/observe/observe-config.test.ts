import { expect, test } from "bun:test";
import { loadConfig } from "../config.ts";

const observeOf = (env: Record<string, string>) => {
  const loaded = loadConfig(env);
  if (!loaded.ok) throw new Error(loaded.errors.join("; "));
  return loaded.config.observe;
};
const errorsOf = (env: Record<string, string>): string[] => {
  const loaded = loadConfig(env);
  return loaded.ok ? [] : loaded.errors;
};

test("by default: metrics on without a token, no tracing, a connection down 10 min is reported", () => {
  expect(observeOf({})).toEqual({ metricsEnabled: true, metricsToken: null, tracing: null, connectionDownWarnMs: 600_000 });
  expect(observeOf({ METRICS: "off" }).metricsEnabled).toBe(false);
});

test("the standard OpenTelemetry variables: the traces URL, headers, service name, batch settings, and the ways to turn it off", () => {
  const tracing = observeOf({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/", OTEL_EXPORTER_OTLP_HEADERS: "x-api-key=a%3Db,team=obs", OTEL_SERVICE_NAME: "gw", OTEL_BSP_SCHEDULE_DELAY: "200" }).tracing;
  expect(tracing).toMatchObject({ url: "http://collector:4318/v1/traces", headers: { "x-api-key": "a=b", team: "obs" }, serviceName: "gw", batch: { scheduledDelayMillis: 200, maxQueueSize: 2048 } });
  expect(observeOf({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://a:4318", OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "https://b/traces" }).tracing?.url).toBe("https://b/traces");
  expect(observeOf({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://a:4318", OTEL_SDK_DISABLED: "true" }).tracing).toBeNull();
  expect(observeOf({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://a:4318", OTEL_TRACES_EXPORTER: "none" }).tracing).toBeNull();
});

test("what cannot work stops start-up with a message that says what to set, never echoing a header's value", () => {
  expect(errorsOf({ METRICS_TOKEN: "short" }).join()).toContain("METRICS_TOKEN must be at least 16 characters");
  expect(errorsOf({ METRICS: "maybe" }).join()).toContain('METRICS must be "on" or "off"');
  expect(errorsOf({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://a:4317", OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" }).join()).toContain('set it to "http/json"');
  expect(errorsOf({ OTEL_EXPORTER_OTLP_ENDPOINT: "ftp://a" }).join()).toContain("must be an http(s) URL");
  const bad = errorsOf({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://a", OTEL_EXPORTER_OTLP_HEADERS: "x-key=%E0%A4%Asecret" }).join();
  expect(bad).toContain("not URL-encoded correctly");
  expect(bad).not.toContain("secret");
});
