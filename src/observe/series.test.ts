import { expect, test } from "bun:test";
import { Counter, Histogram, Registry } from "prom-client";
import { SeriesCounter, SeriesHistogram } from "./series.ts";

test("series read at a scrape exactly as prom-client's own counter and histogram: lines, order, values, the JSON form, and after a reset", async () => {
  const theirs = new Registry();
  const ours = new Registry();
  const config = (registers: Registry[]) => ({ name: "calls_total", help: "Calls.", labelNames: ["connection", "outcome"] as ("connection" | "outcome")[], registers });
  const timed = (registers: Registry[]) => ({ name: "call_seconds", help: "Call \\ time.", labelNames: ["connection"] as "connection"[], buckets: [0.005, 0.1, 1, 60], registers });
  const counters = [new Counter(config([theirs])), new SeriesCounter(config([ours]))];
  const histograms = [new Histogram(timed([theirs])), new SeriesHistogram(timed([ours]))];
  const connections = ["linear", 'quo"ted\\back\nslash', "gateway"];
  const seconds = [0, 0.005, 0.0051, 0.1, 59.9, 60, 61, 1e-9, 0.3];
  for (let i = 0; i < 40; i++) {
    const connection = connections[(i * 7) % 3]!;
    for (const counter of counters) counter.labels({ connection, outcome: i % 4 === 0 ? "denied" : "ok" }).inc();
    for (const histogram of histograms) histogram.labels({ connection }).observe(seconds[i % seconds.length]!);
  }
  // A value that is not a number is refused by both, and counts nowhere.
  for (const histogram of histograms) expect(() => histogram.labels({ connection: "linear" }).observe(Number.NaN)).toThrow(TypeError);
  expect(await ours.metrics()).toBe(await theirs.metrics());
  expect(await ours.getMetricsAsJSON()).toEqual(await theirs.getMetricsAsJSON());

  theirs.resetMetrics();
  ours.resetMetrics();
  expect(await ours.metrics()).toBe(await theirs.metrics());
  for (const histogram of histograms) histogram.labels({ connection: "gateway" }).observe(2);
  expect(await ours.metrics()).toBe(await theirs.metrics());
});
