import type { UsageBucket, UsageStats, UsageSummary, UsageWindow } from "../src/usage/usage.ts";

/**
 * Usage drawn on the server: an inline SVG (no script, no chart library; the CSP allows it as
 * markup) and the numbers beside it as text, so a screen reader and a browser without CSS get the
 * same facts. Colours come from the stylesheet (`.usage-chart .calls`, `.errors`), so dark mode
 * follows it.
 */

const WINDOW_LABEL: Record<UsageWindow, string> = { hour: "last hour", day: "last 24 hours", week: "last 7 days" };

export function formatRate(stats: UsageStats): string {
  if (stats.calls === 0) return "—";
  const rate = (stats.errors / stats.calls) * 100;
  return `${rate < 10 && rate > 0 ? rate.toFixed(1) : Math.round(rate)}%`;
}

export function formatMs(ms: number | null): string {
  return ms === null ? "—" : `${ms} ms`;
}

export type UsageChartProps = {
  series: UsageBucket[];
  window: UsageWindow;
  /** What is counted, for the accessible name: "fixture", "all your calls". */
  subject: string;
  width?: number;
  height?: number;
};

/** Bars of calls per bucket, the failed part of each in the error colour. Place it on a card or page. */
export function usageChart(props: UsageChartProps): JSX.Element {
  const width = props.width ?? 240;
  const height = props.height ?? 48;
  const max = Math.max(1, ...props.series.map((b) => b.calls));
  const step = width / Math.max(1, props.series.length);
  const barWidth = Math.max(1, step - 1);
  const calls = props.series.reduce((n, b) => n + b.calls, 0);
  const errors = props.series.reduce((n, b) => n + b.errors, 0);
  const label = `${props.subject}: ${calls} call${calls === 1 ? "" : "s"}, ${errors} failed, ${WINDOW_LABEL[props.window]}`;
  return (
    <svg class="usage-chart" viewBox={`0 0 ${width} ${height}`} width={String(width)} height={String(height)} role="img" aria-label={label} preserveAspectRatio="none">
      <title safe>{label}</title>
      <line class="axis" x1="0" y1={String(height - 0.5)} x2={String(width)} y2={String(height - 0.5)} />
      {props.series.map((b, i) => {
        if (b.calls === 0) return "";
        const h = Math.max(1, (b.calls / max) * (height - 2));
        const eh = b.errors === 0 ? 0 : Math.max(1, (b.errors / max) * (height - 2));
        const x = (i * step).toFixed(1);
        return (
          <>
            <rect class="calls" x={x} y={(height - 1 - h).toFixed(1)} width={barWidth.toFixed(1)} height={h.toFixed(1)} />
            {eh > 0 ? <rect class="errors" x={x} y={(height - 1 - eh).toFixed(1)} width={barWidth.toFixed(1)} height={eh.toFixed(1)} /> : ""}
          </>
        );
      })}
    </svg>
  );
}

/** Calls, error rate and p50/p95 for one window, as a definition list. */
export function UsageFigures(props: { stats: UsageStats; window: UsageWindow }): JSX.Element {
  const s = props.stats;
  return (
    <div class="usage-figures" data-window={props.window}>
      <h3 safe>{WINDOW_LABEL[props.window]}</h3>
      <dl>
        <div>
          <dt>Calls</dt>
          <dd class="usage-calls" safe>{String(s.calls)}</dd>
        </div>
        <div>
          <dt>Errors</dt>
          <dd class="usage-errors" safe>{formatRate(s)}</dd>
        </div>
        <div>
          <dt>p50</dt>
          <dd class="usage-p50" safe>{formatMs(s.p50)}</dd>
        </div>
        <div>
          <dt>p95</dt>
          <dd class="usage-p95" safe>{formatMs(s.p95)}</dd>
        </div>
      </dl>
    </div>
  );
}

/** The strip above the access log (and on a connection's page): three windows and the day's chart. */
export function UsageStrip(props: { summary: UsageSummary; series?: UsageBucket[]; subject: string; id?: string }): JSX.Element {
  return (
    <section class="card usage-strip" id={props.id ?? "usage"} aria-label={`Usage: ${props.subject}`}>
      {(["hour", "day", "week"] as const).map((w) => (
        <UsageFigures stats={props.summary[w]} window={w} />
      ))}
      {props.series ? usageChart({ series: props.series, window: "day", subject: props.subject }) : ""}
    </section>
  );
}

export type ToolUsageRow = { tool: string } & UsageStats;

/** Per tool of a connection, busiest first. */
export function ToolUsageTable(props: { rows: ToolUsageRow[]; window: UsageWindow }): JSX.Element {
  if (props.rows.length === 0) return <p class="muted" safe>{`No calls in the ${WINDOW_LABEL[props.window]}.`}</p>;
  return (
    <div class="table-wrap">
      <table class="tool-usage">
        <caption class="visually-hidden" safe>{`Usage per tool, ${WINDOW_LABEL[props.window]}`}</caption>
        <thead>
          <tr>
            <th scope="col">Tool</th>
            <th scope="col">Calls</th>
            <th scope="col">Errors</th>
            <th scope="col">p50</th>
            <th scope="col">p95</th>
          </tr>
        </thead>
        <tbody>
          {props.rows.map((r) => (
            <tr>
              <td>
                <code safe>{r.tool}</code>
              </td>
              <td safe>{String(r.calls)}</td>
              <td safe>{formatRate(r)}</td>
              <td safe>{formatMs(r.p50)}</td>
              <td safe>{formatMs(r.p95)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export type ConnectionUsageProps = {
  connection: string;
  summary: UsageSummary;
  series: UsageBucket[];
  tools: ToolUsageRow[];
  window: UsageWindow;
  /** The page's own path: the window links are plain GET links (no JavaScript needed). */
  path: string;
  /** Members see their own calls only. */
  own: boolean;
};

/** A connection's page: its three windows, the day's chart, and per tool for the chosen window. */
export function ConnectionUsage(props: ConnectionUsageProps): JSX.Element {
  return (
    <section class="card stack" id="connection-usage" aria-labelledby="connection-usage-title">
      <h2 id="connection-usage-title">{props.own ? "Your usage" : "Usage"}</h2>
      <UsageStrip summary={props.summary} series={props.series} subject={props.own ? `your calls to ${props.connection}` : props.connection} id="connection-usage-strip" />
      <nav class="usage-windows" aria-label="Usage per tool over">
        {(["hour", "day", "week"] as const).map((w) => (
          <a href={`${props.path}?usage=${w}#connection-usage`} aria-current={props.window === w ? "true" : undefined} safe>
            {WINDOW_LABEL[w]}
          </a>
        ))}
      </nav>
      <ToolUsageTable rows={props.tools} window={props.window} />
    </section>
  );
}

/** The small version for a connection's card: the day's bars and one line of numbers. */
export function CardUsage(props: { connection: string; stats: UsageStats; series: UsageBucket[] }): JSX.Element {
  const s = props.stats;
  return (
    <div class="card-usage">
      {usageChart({ series: props.series, window: "day", subject: props.connection, width: 160, height: 32 })}
      <p class="muted" safe>
        {s.calls === 0 ? "No calls in 24 h" : `${s.calls} call${s.calls === 1 ? "" : "s"} in 24 h · ${formatRate(s)} errors · p95 ${formatMs(s.p95)}`}
      </p>
    </div>
  );
}
