// @ts-expect-error parse-prometheus-text-format ships no types; its output is typed below (prom2json's shape).
import parsePrometheusTextFormat from "parse-prometheus-text-format";

type Sample = { labels?: Record<string, string>; value?: string };
type Family = { name: string; help: string; type: string; metrics: Sample[] };

/** A scrape of /metrics, parsed by a Prometheus text-format parser from npm (not by us). */
export type Scrape = {
  text: string;
  families: Family[];
  /** The value of the sample of `name` whose labels include `labels` (counter, gauge), or undefined. */
  value(name: string, labels?: Record<string, string>): number | undefined;
  /** How many observations a histogram holds for `labels` (its `_count`), or undefined. */
  count(name: string, labels?: Record<string, string>): number | undefined;
};

export async function scrape(url: string, init: RequestInit = {}): Promise<Scrape> {
  const response = await fetch(`${url}/metrics`, init);
  const text = await response.text();
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}: ${text}`);
  return parseScrape(text);
}

/**
 * The parser folds every label set of a histogram into one sample and drops the labels (1.1.1), so
 * histograms are handed to it untyped: each of `_bucket`, `_sum`, `_count` is then read as a family
 * of its own, labels intact. Counters and gauges are parsed as they are.
 */
export function parseScrape(text: string): Scrape {
  const untypedHistograms = text.replace(/^# TYPE \S+ histogram$/gm, "");
  const families = parsePrometheusTextFormat(untypedHistograms) as Family[];
  const find = (name: string, labels: Record<string, string>): Sample | undefined =>
    // An untyped histogram's `_count` lines come as one family per label set, each between its buckets.
    families.filter((f) => f.name === name).flatMap((f) => f.metrics).find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  return {
    text,
    families,
    value: (name, labels = {}) => {
      const sample = find(name, labels);
      return sample?.value === undefined ? undefined : Number(sample.value);
    },
    count: (name, labels = {}) => {
      const sample = find(`${name}_count`, labels);
      return sample?.value === undefined ? undefined : Number(sample.value);
    },
  };
}
