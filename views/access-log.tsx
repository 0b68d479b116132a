import type { AccessLogRow } from "../src/accesslog/query.ts";
import { Layout } from "./layout.tsx";
import { Time } from "./components.tsx";
import type { Viewer } from "../src/web/viewer.ts";

export type LogFilterValues = { connection: string; tool: string; outcome: string; user: string };

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
};

const OUTCOME_LABEL: Record<string, { label: string; badge: string }> = {
  ok: { label: "OK", badge: "badge badge-ok" },
  tool_error: { label: "Tool error", badge: "badge badge-warn" },
  upstream_error: { label: "Upstream error", badge: "badge badge-error" },
  denied: { label: "Denied", badge: "badge badge-muted" },
  paused: { label: "Paused (not sent)", badge: "badge badge-muted" },
};

export function filterQuery(filter: LogFilterValues, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries({ ...filter, ...extra })) if (value) params.set(key, value);
  const query = params.toString();
  return query ? `?${query}` : "";
}

export function AccessLogPage(props: AccessLogPageProps): JSX.Element {
  const f = props.filter;
  return (
    <Layout title="Access log" user={props.user} active="log">
      <h1>Access log</h1>
      <form method="get" action="/access-log" class="card filters" aria-label="Filter the access log">
        <div class="stack">
          <label for="filter-connection">Connection</label>
          <select id="filter-connection" name="connection">
            <option value="">All</option>
            {props.connections.map((name) => (
              <option value={name} selected={f.connection === name} safe>
                {name}
              </option>
            ))}
          </select>
        </div>
        <div class="stack">
          <label for="filter-tool">Tool</label>
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
        <div class="actions">
          <button type="submit">Filter</button>
          <a href="/access-log">Clear</a>
        </div>
      </form>
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
              <th scope="col">Tool</th>
              <th scope="col">Who</th>
              <th scope="col">Outcome</th>
              <th scope="col">Latency</th>
            </tr>
          </thead>
          <tbody>
            {props.entries.map((e) => (
              <LogRow entry={e} />
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

function LogRow(props: { entry: AccessLogRow }): JSX.Element {
  const e = props.entry;
  const outcome = OUTCOME_LABEL[e.outcome] ?? { label: e.outcome, badge: "badge" };
  return (
    <tr>
      <td data-label="Time">
        <Time ms={e.at} />
      </td>
      <td data-label="Connection" safe>
        {e.connectionName ?? "—"}
      </td>
      <td data-label="Tool">
        <code safe>{e.tool}</code>
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
