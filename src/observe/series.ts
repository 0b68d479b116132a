import type { Registry } from "prom-client";

type Labels = Record<string, string>;
type Value = { value: number; labels: Labels | Record<string, string | number>; sharedLabels?: Labels; metricName?: string; exemplar?: null };
type Exported = { name: string; help: string; type: "counter" | "histogram"; values: Value[]; aggregator: "sum" };
type Config<L extends string> = { name: string; help: string; labelNames: L[]; registers: Registry[] };

/**
 * The per-call metrics' series as plain numbers, exposed through prom-client's Registry, which
 * formats them as it formats its own Counter and Histogram: the same lines in the same order, series
 * in the order of their first update. prom-client's label children check and hash their labels and
 * key a histogram's buckets by the text of their bound on every update; a call makes four updates
 * (bench/README.md). Here a child holds its series, and an update is arithmetic.
 */
abstract class LabelledSeries<L extends string, S extends { labels: Labels; shown: boolean }> {
  readonly aggregator = "sum";
  private readonly byValues = new Map<string, S>();
  // In the order of their first update, as prom-client lists its series.
  protected shown: S[] = [];

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: L[],
    registers: Registry[],
  ) {
    // The registry reads `name`, `get()` (or `getForPromString()`) and `reset()`: the interface of its own metrics.
    for (const registry of registers) registry.registerMetric(this as never);
  }

  /** The series of these label values, found once: keep it for the updates. */
  protected seriesOf(labels: Record<L, string>): S {
    const key = this.labelNames.map((name) => labels[name]).join("\u0000");
    let series = this.byValues.get(key);
    if (!series) {
      series = this.create({ ...labels });
      this.byValues.set(key, series);
    }
    return series;
  }

  protected show(series: S): void {
    series.shown = true;
    this.shown.push(series);
  }

  /** Every series back to nothing, as prom-client's `reset()` (the children stay usable). */
  reset(): void {
    for (const series of this.shown) this.clear(series);
    this.shown = [];
  }

  protected abstract create(labels: Labels): S;
  protected abstract clear(series: S): void;
}

type CounterSeries = { labels: Labels; shown: boolean; value: number };

export class SeriesCounter<L extends string> extends LabelledSeries<L, CounterSeries> {
  readonly type = "counter";

  constructor(config: Config<L>) {
    super(config.name, config.help, config.labelNames, config.registers);
  }

  labels(labels: Record<L, string>): { inc(): void } {
    const series = this.seriesOf(labels);
    return {
      inc: () => {
        if (!series.shown) this.show(series);
        series.value += 1;
      },
    };
  }

  async get(): Promise<Exported> {
    return { help: this.help, name: this.name, type: this.type, values: this.shown.map(({ value, labels }) => ({ value, labels })), aggregator: this.aggregator };
  }

  protected create(labels: Labels): CounterSeries {
    return { labels, shown: false, value: 0 };
  }

  protected clear(series: CounterSeries): void {
    series.shown = false;
    series.value = 0;
  }
}

type HistogramSeries = { labels: Labels; shown: boolean; buckets: number[]; sum: number; count: number };

export class SeriesHistogram<L extends string> extends LabelledSeries<L, HistogramSeries> {
  readonly type = "histogram";
  private readonly bounds: number[];

  constructor(config: Config<L> & { buckets: number[] }) {
    super(config.name, config.help, config.labelNames, config.registers);
    this.bounds = [...config.buckets];
  }

  labels(labels: Record<L, string>): { observe(value: number): void } {
    const series = this.seriesOf(labels);
    return { observe: (value) => this.observe(series, value) };
  }

  private observe(series: HistogramSeries, value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
    if (!series.shown) this.show(series);
    // The first bound at or above the value; past the last, only +Inf (the count) holds it.
    let bucket = 0;
    while (bucket < this.bounds.length && value > this.bounds[bucket]!) bucket++;
    if (bucket < this.bounds.length) series.buckets[bucket]! += 1;
    series.sum += value;
    series.count += 1;
  }

  /** What prom-client's Histogram gives the registry: cumulative buckets, +Inf, sum and count per series. */
  async getForPromString(): Promise<Exported> {
    const values: Value[] = [];
    for (const series of this.shown) {
      const sharedLabels = series.labels;
      let below = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        below += series.buckets[i]!;
        values.push({ labels: { le: this.bounds[i]! }, sharedLabels, value: below, metricName: `${this.name}_bucket`, exemplar: null });
      }
      values.push(
        { labels: { le: "+Inf" }, sharedLabels, value: series.count, metricName: `${this.name}_bucket`, exemplar: null },
        { labels: {}, sharedLabels, value: series.sum, metricName: `${this.name}_sum` },
        { labels: {}, sharedLabels, value: series.count, metricName: `${this.name}_count` },
      );
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** The JSON form (`Registry.getMetricsAsJSON`): each value's labels with its series' labels. */
  async get(): Promise<Exported> {
    const exported = await this.getForPromString();
    exported.values = exported.values.map(({ sharedLabels, labels, ...value }) => ({ ...value, labels: { ...labels, ...sharedLabels } }));
    return exported;
  }

  protected create(labels: Labels): HistogramSeries {
    return { labels, shown: false, buckets: this.bounds.map(() => 0), sum: 0, count: 0 };
  }

  protected clear(series: HistogramSeries): void {
    series.shown = false;
    series.buckets.fill(0);
    series.sum = 0;
    series.count = 0;
  }
}
