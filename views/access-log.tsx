import type { AccessLogRow } from "../src/accesslog/query.ts";
import { filterQuery, type LogFilterValues } from "../src/accesslog/filter.ts";
import type { UsageBucket, UsageSummary } from "../src/usage/usage.ts";
import { FieldError, Layout } from "./layout.tsx";
import { Time } from "./components.tsx";
import { UsageStrip } from "./usage.tsx";
import type { Viewer } from "../src/web/viewer.ts";
import { AuditExportForm } from "./audit-export.tsx";

export type { LogFilterValues };

export type AccessLogProps = {
  entries: AccessLogRow[];
  filter: LogFilterValues;
  /** The cursor of the next (older) page, if any. */
  next: string | null;
  /** Set on an older page: links back to the newest. */
  before: string | null;
};

export type AccessLogPageProps = AccessLogProps & {
  user: Viewer;
  connections: string[];
  /** Offered in the user filter (admins only; members see their own calls). */
  users: { id: string; email: string }[];
  /** Fields of the filter that could not be read (shown beside them; the rest still applies). */
  errors: Record<string, string>;
  usage: UsageSummary;
  usageSeries: UsageBucket[];
};

const OUTCOME_LABEL: Record<string, { label: string; badge: string }> = {
  ok: { label: "OK", badge: "badge badge-ok" },
  tool_error: { label: "Tool error", badge: "badge badge-warn" },
  upstream_error: { label: "Upstream error", badge: "badge badge-error" },
  denied: { label: "Denied", badge: "badge badge-muted" },
  paused: { label: "Paused (not sent)", badge: "badge badge-muted" },
};

export function AccessLogPage(props: AccessLogPageProps): JSX.Element {
  const f = props.filter;
  return (
    <Layout title="Access log" user={props.user} active="log">
      <h1>Access log</h1>
      <UsageStrip summary={props.usage} series={props.usageSeries} subject={props.user.admin ? "every call in the workspace" : "your calls"} id="usage-summary" />
      <form method="get" action="/access-log" class="card filters" aria-label="Filter the access log">
        <div class="stack">
          <label for="filter-connection">Connection contains</label>
          <input id="filter-connection" name="connection" value={f.connection} list="known-connections" spellcheck="false" />
          <datalist id="known-connections">
            {props.connections.map((name) => (
              <option value={name} />
            ))}
          </datalist>
        </div>
        <div class="stack">
          <label for="filter-tool">Tool contains</label>
          <input id="filter-tool" name="tool" value={f.tool} placeholder="create_issue" spellcheck="false" />
        </div>
        <div class="stack">
          <label for="filter-outcome">Outcome</label>
          <select id="filter-outcome" name="outcome">
            <option value="">All</option>
            {Object.entries(OUTCOME_LABEL).map(([value, o]) => (
              <option value={value} selected={f.outcome === value} safe>
                {o.label}
              </option>
            ))}
          </select>
        </div>
        {props.users.length > 0 ? (
          <div class="stack">
            <label for="filter-user">User</label>
            <select id="filter-user" name="user">
              <option value="">All</option>
              {props.users.map((u) => (
                <option value={u.id} selected={f.user === u.id} safe>
                  {u.email}
                </option>
              ))}
            </select>
          </div>
        ) : (
          ""
        )}
        <div class="stack">
          <label for="filter-from">From (UTC)</label>
          <input id="filter-from" name="from" type="date" value={f.from} aria-describedby="from-error" />
          <FieldError errors={props.errors} field="from" />
        </div>
        <div class="stack">
          <label for="filter-to">To (UTC, inclusive)</label>
          <input id="filter-to" name="to" type="date" value={f.to} aria-describedby="to-error" />
          <FieldError errors={props.errors} field="to" />
        </div>
        <div class="actions">
          <button type="submit">Filter</button>
          <a href="/access-log">Clear</a>
        </div>
      </form>
      <p class="export-links">
        Export these calls (every page, newest first): <a href={`/access-log/export.csv${filterQuery(f)}`} download="">CSV</a> ·{" "}
        <a href={`/access-log/export.jsonl${filterQuery(f)}`} download="">
          JSON lines
        </a>
      </p>
      {props.user.admin ? <AuditExportForm /> : ""}
      <AccessLogEntries entries={props.entries} filter={f} next={props.next} before={props.before} />
    </Layout>
  );
}

/**
 * The table and its pager. On the newest page it polls for itself every 2 s with the id of its
 * newest row; the server answers 204 (no swap) until something newer matches the filter.
 */
export function AccessLogEntries(props: AccessLogProps): JSX.Element {
  const newest = props.entries[0]?.id ?? "";
  const poll = props.before ? {} : { "hx-get": `/access-log/entries${filterQuery(props.filter, { newest })}`, "hx-trigger": "every 2s", "hx-swap": "outerHTML" };
  return (
    <section id="log" class="card" aria-label="Calls, newest first" {...poll}>
      {props.entries.length === 0 ? (
        <p class="muted">No calls{props.before ? " before these" : " yet"}. Calls made through the gateway appear here as they happen.</p>
      ) : (
        <table class="log">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Connection</th>
              <th scope="col">Tool, prompt or resource</th>
              <th scope="col">Who</th>
              <th scope="col">Outcome</th>
              <th scope="col">Latency</th>
            </tr>
          </thead>
          <tbody>
            {props.entries.map((e) => (
              <LogRow entry={e} back={filterQuery(props.filter, props.before ? { before: props.before } : {})} />
            ))}
          </tbody>
        </table>
      )}
      <nav class="pager" aria-label="Pages">
        {props.before ? <a href={`/access-log${filterQuery(props.filter)}`}>← Newest</a> : ""}
        {props.next ? (
          <a class="older" href={`/access-log${filterQuery(props.filter, { before: props.next })}`}>
            Older →
          </a>
        ) : (
          ""
        )}
      </nav>
    </section>
  );
}

function LogRow(props: { entry: AccessLogRow; back: string }): JSX.Element {
  const e = props.entry;
  const outcome = OUTCOME_LABEL[e.outcome] ?? { label: e.outcome, badge: "badge" };
  const detail = `/access-log/${encodeURIComponent(e.id)}${props.back ? `?back=${encodeURIComponent(props.back)}` : ""}`;
  return (
    <tr>
      <td data-label="Time">
        <a href={detail} class="log-detail">
          <Time ms={e.at} />
          <span class="visually-hidden"> (details)</span>
        </a>
      </td>
      <td data-label="Connection" safe>
        {e.connectionName ?? "—"}
      </td>
      <td data-label="Tool, prompt or resource">
        {e.kind === "tool" ? "" : <span class="badge badge-muted">{e.kind === "prompt" ? "Prompt" : "Resource"}</span>} <code safe>{e.tool}</code>
      </td>
      <td data-label="Who">
        <div>
          <span safe>{e.userEmail ?? "unknown user"}</span>
          {e.apiKeyName ? (
            <span class="muted sub">
              {"key "}
              <span safe>{e.apiKeyName}</span>
            </span>
          ) : e.oauthClientName ? (
            <span class="muted sub">
              {"OAuth app "}
              <span safe>{e.oauthClientName}</span>
            </span>
          ) : (
            <span class="muted sub">{e.apiKeyId ? "a removed key" : "dashboard"}</span>
          )}
          {e.credentialUserId ? <span class="muted sub">with their own credential</span> : ""}
        </div>
      </td>
      <td data-label="Outcome">
        <div>
          <span class={outcome.badge} safe>
            {outcome.label}
          </span>
          {e.errorSummary ? (
            <span class="muted error-summary" safe>
              {e.errorSummary}
            </span>
          ) : (
            ""
          )}
        </div>
      </td>
      <td data-label="Latency" safe>{`${e.latencyMs} ms`}</td>
    </tr>
  );
}

/** One call, every field: what an audit asks about a row. */
export function AccessLogDetailPage(props: { user: Viewer; entry: AccessLogRow; back: string }): JSX.Element {
  const e = props.entry;
  const outcome = OUTCOME_LABEL[e.outcome] ?? { label: e.outcome, badge: "badge" };
  const who = e.apiKeyName ? `key ${e.apiKeyName}` : e.oauthClientName ? `OAuth app ${e.oauthClientName}` : e.apiKeyId ? "a removed key" : "dashboard";
  const rows: [string, string][] = [
    ["Call id", e.id],
    ["Time", `${new Date(e.at).toISOString()} (${e.at} ms since 1970)`],
    ["Connection", e.connectionName ?? "—"],
    ["Tool", e.tool],
    ["User", e.userEmail ?? "unknown user"],
    ["User id", e.userId ?? "—"],
    ["Signed in with", who],
    ["Key or grant id", e.apiKeyId ?? "—"],
    ["Credential used", e.credentialUserId ? "the member's own (per-member connection)" : "the connection's shared one"],
    ["Outcome", outcome.label],
    ["Latency", `${e.latencyMs} ms`],
    ["Error", e.errorSummary ?? "—"],
  ];
  return (
    <Layout title="Call details" user={props.user} active="log">
      <p>
        <a href={`/access-log${props.back}`}>← Access log</a>
      </p>
      <h1>Call details</h1>
      <section class="card">
        <dl class="detail">
          {rows.map(([label, value]) => (
            <div>
              <dt safe>{label}</dt>
              <dd safe>{value}</dd>
            </div>
          ))}
        </dl>
      </section>
    </Layout>
  );
}
