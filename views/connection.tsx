import { MemberAccountSection } from "./member-account.tsx";
import type { MemberCredentialStatus } from "../src/connections/member-credentials.ts";
import type { ConnectionMeta } from "../src/connections/types.ts";
import type { ToolRow } from "../src/connections/types.ts";
import type { SyncReport } from "../src/connections/sync.ts";
import { FieldError, Layout } from "./layout.tsx";
import { AuthFields, StatusBadge, Time } from "./components.tsx";
import type { Viewer } from "../src/web/viewer.ts";
import { shorten } from "./connections.tsx";
import { ItemsSection } from "./connection-items.tsx";
import type { ItemRow } from "../src/connections/items.ts";
import { OAuthSection } from "./oauth.tsx";
import { pastedAuthKinds } from "../src/connections/auth-kinds/registry.ts";
import { STATUS_LABEL, type StatusEvent } from "../src/connections/status.ts";

export type SyncOutcome = { report: SyncReport } | { error: string };

export type ConnectionPageProps = {
  user: Viewer;
  connection: ConnectionMeta;
  tools: ToolRow[];
  /** Its prompts, resources and templates. */
  items?: ItemRow[];
  sync?: SyncOutcome;
  reauthErrors?: Record<string, string>;
  edit?: { values: EditValues; errors: Record<string, string> };
  /** A per-member connection: the viewer's own account on it. */
  account?: { status: MemberCredentialStatus | null; errors?: Record<string, string> };
  /** Its status changes, newest first. */
  events?: StatusEvent[];
  /** Usage from the access log (views/usage.tsx ConnectionUsage), rendered by the route. */
  usage?: JSX.Element;
};

export function connectionPath(c: Pick<ConnectionMeta, "id">): string {
  return `/connections/${encodeURIComponent(c.id)}`;
}

export function ConnectionPage(props: ConnectionPageProps): JSX.Element {
  const c = props.connection;
  const admin = props.user.admin;
  // OAuth and ID-JAG are re-authorized through their provider; the other kinds are pasted here.
  const perMember = c.sharing === "per_member";
  const canReauth = !perMember && pastedAuthKinds().some((entry) => entry.id === c.authKind);
  return (
    <Layout title={c.name} user={props.user} active="connections">
      <p>
        <a href="/">← Connections</a>
      </p>
      <ConnectionOverview connection={c} tools={props.tools} admin={admin} sync={props.sync} />
      <ItemsSection connection={c} items={props.items ?? []} admin={admin} />
      <StatusHistory events={props.events ?? []} />
      {(props.usage ?? "") as "safe"}
      {perMember ? <MemberAccountSection connection={c} status={props.account?.status ?? null} errors={props.account?.errors ?? {}} /> : ""}
      {admin && canReauth ? <ReauthForm connection={c} errors={props.reauthErrors ?? {}} /> : ""}
      {admin && !perMember && c.authKind === "oauth" ? <OAuthSection connection={c} /> : ""}
      {admin ? <EditForm connection={c} values={props.edit?.values ?? editValues(c)} errors={props.edit?.errors ?? {}} /> : ""}
      {admin ? (
        <section class="card stack danger-zone" aria-labelledby="remove-title">
          <h2 id="remove-title">Remove</h2>
          <p>{c.authKind === "none" ? "Its tools disappear from the gateway." : "Its tools disappear from the gateway and its stored credential is deleted."}</p>
          <p>
            <a class="button danger" href={`${connectionPath(c)}/remove`}>
              Remove <span safe>{c.name}</span>…
            </a>
          </p>
        </section>
      ) : (
        ""
      )}
    </Layout>
  );
}

/** Status, sync and tools: what Re-sync and Retry now replace. */
export function ConnectionOverview(props: { connection: ConnectionMeta; tools: ToolRow[]; admin: boolean; sync?: SyncOutcome }): JSX.Element {
  const c = props.connection;
  const retry = c.status === "error" || c.status === "paused" || c.status === "needs_reauth";
  return (
    <div id="connection" class="stack">
      <div class="page-head">
        <h1 safe>{c.name}</h1>
        <StatusBadge connection={c} />
      </div>
      <section class="card stack" aria-label="Status">
        <p class="url" safe>
          {c.url}
        </p>
        <p class="muted">
          Authentication: <span safe>{authLabel(c)}</span> · Last sync: <Time ms={c.lastSyncedAt} /> · Call timeout:{" "}
          <span>{c.callTimeoutMs ? `${c.callTimeoutMs} ms` : "gateway default"}</span>
        </p>
        {c.statusDetail && c.status !== "connected" ? (
          <p class="status-detail" role="status" safe>
            {c.statusDetail}
          </p>
        ) : (
          ""
        )}
        {props.sync ? <SyncResult sync={props.sync} /> : ""}
        {props.admin ? (
          <form method="post" action={`${connectionPath(c)}/sync`} hx-post={`${connectionPath(c)}/sync`} hx-target="#connection" hx-swap="outerHTML" hx-disable="find button" class="actions">
            <button type="submit" id="sync-button" class={retry ? "" : "secondary"}>
              {retry ? "Retry now" : "Re-sync tools"} <span class="spinner htmx-indicator" aria-hidden="true"></span>
            </button>
          </form>
        ) : (
          ""
        )}
      </section>
      <ToolsSection connection={c} tools={props.tools} admin={props.admin} />
    </div>
  );
}

function authLabel(c: ConnectionMeta): string {
  if (c.authKind === "bearer") return "token";
  if (c.authKind === "header") return `header ${c.authHeader ?? ""}`;
  if (c.authKind === "oauth") return "OAuth";
  if (c.authKind === "url") return "key in the URL";
  return "none";
}

function SyncResult(props: { sync: SyncOutcome }): JSX.Element {
  if ("error" in props.sync) {
    return (
      <p class="sync-result result-error" role="alert" safe>
        {props.sync.error}
      </p>
    );
  }
  const { added, removed, changed, total } = props.sync.report;
  const list = (label: string, names: string[]) =>
    names.length === 0 ? (
      ""
    ) : (
      <li>
        <span safe>{`${label} (${names.length}): `}</span>
        <span safe>{names.join(", ")}</span>
      </li>
    );
  return (
    <div class="sync-result" role="status">
      <p safe>{added.length + removed.length + changed.length === 0 ? `Synced: no changes (${total} tools).` : `Synced: ${total} tools.`}</p>
      <ul>
        {list("Added", added)}
        {list("Removed", removed)}
        {list("Changed", changed)}
      </ul>
    </div>
  );
}

/** The tool list with a toggle each; a toggle replaces the whole section so the count stays right. */
export function ToolsSection(props: { connection: ConnectionMeta; tools: ToolRow[]; admin: boolean }): JSX.Element {
  const c = props.connection;
  const enabled = props.tools.filter((t) => t.enabled).length;
  return (
    <section id="tools" class="card" aria-labelledby="tools-title">
      <h2 id="tools-title">
        Tools <span class="muted" safe>{`· ${enabled} of ${props.tools.length} exposed`}</span>
      </h2>
      {props.tools.length === 0 ? <p class="muted">This server lists no tools.</p> : ""}
      {props.admin && !c.exposeNewTools && props.tools.length > 0 && enabled === 0 ? (
        <p class="status-detail" role="status">
          None of these tools is exposed until you pick them: <a href={`${connectionPath(c)}/expose`}>Choose the tools to expose</a>.
        </p>
      ) : (
        ""
      )}
      <ul class="tool-list">
        {props.tools.map((tool, i) => (
          <li class="tool" id={`tool-${i}`}>
            <div class="tool-main">
              <code class="tool-name" id={`tool-${i}-name`} safe>
                {tool.exposedName}
              </code>
              {tool.title ? (
                <span class="tool-title" safe>
                  {tool.title}
                </span>
              ) : (
                ""
              )}
              {tool.description ? (
                <p class="muted tool-desc" safe>
                  {shorten(tool.description, 300)}
                </p>
              ) : (
                ""
              )}
            </div>
            <div class="tool-actions">
              <a href={`${connectionPath(c)}/test?tool=${encodeURIComponent(tool.name)}`} aria-describedby={`tool-${i}-name`}>
                Test
              </a>
              {props.admin ? <ToolToggle connection={c} tool={tool} index={i} /> : <span class={tool.enabled ? "badge badge-ok" : "badge badge-muted"}>{tool.enabled ? "On" : "Off"}</span>}
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}

function ToolToggle(props: { connection: ConnectionMeta; tool: ToolRow; index: number }): JSX.Element {
  const action = `${connectionPath(props.connection)}/tools?tool=${encodeURIComponent(props.tool.name)}`;
  const on = props.tool.enabled;
  return (
    <form method="post" action={action} hx-post={action} hx-target="#tools" hx-swap="outerHTML" class="inline">
      <input type="hidden" name="enabled" value={on ? "false" : "true"} />
      <button type="submit" id={`tool-${props.index}-toggle`} class="switch" aria-pressed={on ? "true" : "false"} aria-describedby={`tool-${props.index}-name`}>
        <span class="switch-track" aria-hidden="true"></span>
        <span aria-hidden="true">{on ? "On" : "Off"}</span>
        <span class="visually-hidden">Expose</span>
      </button>
    </form>
  );
}

export function ReauthForm(props: { connection: ConnectionMeta; errors: Record<string, string> }): JSX.Element {
  const c = props.connection;
  const kinds = pastedAuthKinds();
  const kind = kinds.find((entry) => entry.id === c.authKind)?.id ?? "none";
  return (
    <form id="reauth" method="post" action={`${connectionPath(c)}/reauth`} hx-post={`${connectionPath(c)}/reauth`} hx-target="this" hx-swap="outerHTML" hx-disable="find button" class="card stack">
      <h2>Re-authorize</h2>
      <p>
        {c.authKind === "none"
          ? "This server takes no credential. If it starts asking for one, paste it here."
          : "Paste a new token, header value or key. The gateway tries it before storing it; the old one is replaced."}
      </p>
      <AuthFields kind={kind} kinds={kinds} header={c.authHeader ?? ""} errors={props.errors} legend="Authentication" />
      <div class="actions">
        <button type="submit">
          Save credential <span class="spinner htmx-indicator" aria-hidden="true"></span>
        </button>
      </div>
    </form>
  );
}

export type EditValues = { name: string; url: string; callTimeoutMs: string };

function editValues(c: ConnectionMeta): EditValues {
  return { name: c.name, url: c.url, callTimeoutMs: c.callTimeoutMs ? String(c.callTimeoutMs) : "" };
}

export function EditForm(props: { connection: ConnectionMeta; values: EditValues; errors: Record<string, string> }): JSX.Element {
  const action = `${connectionPath(props.connection)}/edit`;
  return (
    <form id="edit" method="post" action={action} hx-post={action} hx-target="this" hx-swap="outerHTML" hx-disable="find button" class="card stack">
      <h2>Settings</h2>
      <label for="edit-name">Name</label>
      <input id="edit-name" name="name" required maxlength="32" value={props.values.name} aria-describedby="edit-name-help name-error" aria-invalid={props.errors.name ? "true" : undefined} />
      <p class="muted hint" id="edit-name-help">
        Renaming changes the names clients see for its tools.
      </p>
      <FieldError errors={props.errors} field="name" />
      <label for="edit-url">Server URL</label>
      <input id="edit-url" name="url" type="url" required value={props.values.url} aria-describedby="url-error" aria-invalid={props.errors.url ? "true" : undefined} />
      <FieldError errors={props.errors} field="url" />
      <label for="edit-timeout">Call timeout in milliseconds (empty for the gateway default)</label>
      <input id="edit-timeout" name="callTimeoutMs" type="number" min="1000" max="3600000" step="1000" value={props.values.callTimeoutMs} aria-describedby="callTimeoutMs-error" aria-invalid={props.errors.callTimeoutMs ? "true" : undefined} />
      <FieldError errors={props.errors} field="callTimeoutMs" />
      <div class="actions">
        <button type="submit" class="secondary">
          Save settings <span class="spinner htmx-indicator" aria-hidden="true"></span>
        </button>
      </div>
    </form>
  );
}

export function RemovePage(props: { user: Viewer; connection: ConnectionMeta }): JSX.Element {
  const c = props.connection;
  return (
    <Layout title={`Remove ${c.name}`} user={props.user} active="connections">
      <section class="card narrow stack">
        <h1>
          Remove <span safe>{c.name}</span>?
        </h1>
        <p>
          Its <span safe>{String(c.toolCount)}</span> tools disappear from the gateway at once, and clients calling them get an unknown-tool error.
          {c.authKind !== "none" ? " The stored credential is deleted." : ""}
        </p>
        <form method="post" action={`${connectionPath(c)}/remove`} class="actions">
          <button type="submit" class="danger">
            Remove
          </button>
          <a href={connectionPath(c)}>Cancel</a>
        </form>
      </section>
    </Layout>
  );
}

/** When the connection's status changed, from what, to what, and why. */
function StatusHistory(props: { events: StatusEvent[] }): JSX.Element {
  return (
    <section class="card stack" aria-labelledby="history-title">
      <h2 id="history-title">Status history</h2>
      {props.events.length === 0 ? (
        <p class="muted">No changes since it was added.</p>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Change</th>
                <th scope="col">Why</th>
              </tr>
            </thead>
            <tbody>
              {props.events.map((e) => (
                <tr>
                  <td>
                    <Time ms={e.at} />
                  </td>
                  <td safe>{`${STATUS_LABEL[e.from] ?? e.from} → ${STATUS_LABEL[e.to] ?? e.to}`}</td>
                  <td safe>{e.reason ?? ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
