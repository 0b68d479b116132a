import { MemberAccountSection } from "./member-account.tsx";
import type { MemberCredentialStatus } from "../src/connections/member-credentials.ts";
import type { ConnectionMeta } from "../src/connections/types.ts";
import type { ToolRow } from "../src/connections/types.ts";
import type { SyncReport } from "../src/connections/sync.ts";
import { FieldError, Layout } from "./layout.tsx";
import { AuthFields, RelativeTime, StatusBadge } from "./components.tsx";
import type { Viewer } from "../src/web/viewer.ts";
import { ItemsSection } from "./connection-items.tsx";
import type { ItemRow } from "../src/connections/items.ts";
import { ToolsSection } from "./tool-list.tsx";
import type { ToolFilter } from "../src/connections/tool-filter.ts";
import { OAuthConnectButton, OAuthSection } from "./oauth.tsx";
import { pastedAuthKinds } from "../src/connections/auth-kinds/registry.ts";
import { STATUS_LABEL, type StatusEvent } from "../src/connections/status.ts";
import type { ReviewModel } from "../src/connections/review-model.ts";
import { ReviewSection } from "./connection-review.tsx";

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
  /** The tool list's search, on/off filter and page. */
  filter?: ToolFilter;
  /** What the last action did (src/web/flash.ts). */
  flash?: string | null;
  /** For relative times. */
  now: number;
  /** Tools a re-sync found new or changed, not reviewed since. */
  changed?: ReadonlySet<string>;
  /** Held changes, new tools and the review settings: admins only. */
  review?: ReviewModel;
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
    <Layout title={c.name} user={props.user} active="connections" flash={props.flash}>
      <p>
        <a href="/">← Connections</a>
      </p>
      <ConnectionOverview connection={c} tools={props.tools} admin={admin} sync={props.sync} filter={props.filter} now={props.now} changed={props.changed} review={admin ? props.review : undefined} />
      <ItemsSection connection={c} items={props.items ?? []} admin={admin} />
      <StatusHistory connection={c} events={props.events ?? []} now={props.now} />
      {(props.usage ?? "") as "safe"}
      {perMember ? <MemberAccountSection connection={c} status={props.account?.status ?? null} errors={props.account?.errors ?? {}} /> : ""}
      {admin && canReauth ? <ReauthForm connection={c} errors={props.reauthErrors ?? {}} /> : ""}
      {admin && !perMember && c.authKind === "oauth" && !isWaitingForOAuth(c) ? <OAuthSection connection={c} /> : ""}
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
export function ConnectionOverview(props: { connection: ConnectionMeta; tools: ToolRow[]; admin: boolean; sync?: SyncOutcome; filter?: ToolFilter; now: number; changed?: ReadonlySet<string>; review?: ReviewModel }): JSX.Element {
  const c = props.connection;
  const retry = c.status === "error" || c.status === "paused" || c.status === "needs_reauth";
  const waiting = isWaitingForOAuth(c);
  return (
    <div id="connection" class="stack">
      <div class="page-head">
        <h1 safe>{c.name}</h1>
      </div>
      <LiveStatus connection={c} now={props.now} />
      <nav class="jump" aria-label="On this page">
        {props.review ? <a href="#review">{props.review.held.length > 0 ? `Held for review (${props.review.held.length})` : "Review"}</a> : ""}
        <a href="#tools">Tools</a>
        <a href="#history-title">History</a>
        {props.admin ? (
          <>
            <a href="#edit">Settings</a>
            <a href="#remove-title">Remove</a>
          </>
        ) : (
          ""
        )}
      </nav>
      {waiting && props.admin ? (
        <section class="card stack first-step" aria-labelledby="connect-title">
          <h2 id="connect-title">Not connected yet</h2>
          <p>This server signs in with OAuth. Connect opens the provider, where you approve access for the gateway; then you choose which of its tools to expose.</p>
          <p>
            <OAuthConnectButton connection={c} label="Connect" />
          </p>
        </section>
      ) : (
        ""
      )}
      <section class="card stack" aria-label="Status">
        <p class="url" safe>
          {c.url}
        </p>
        <p class="muted">
          Authentication: <span safe>{authLabel(c)}</span> · Call timeout: <span>{c.callTimeoutMs ? `${c.callTimeoutMs} ms` : "gateway default"}</span>
        </p>
        {props.sync ? <SyncResult sync={props.sync} /> : ""}
        {props.admin && !waiting ? (
          <form method="post" action={`${connectionPath(c)}/sync`} hx-post={`${connectionPath(c)}/sync`} hx-target="#connection" hx-swap="outerHTML" hx-disable="find button" class="actions">
            <button type="submit" id="sync-button" class={retry ? "" : "secondary"}>
              {retry ? "Retry now" : "Re-sync tools"} <span class="spinner htmx-indicator" aria-hidden="true"></span>
            </button>
          </form>
        ) : (
          ""
        )}
      </section>
      {props.review && !waiting ? <ReviewSection connection={c} {...props.review} now={props.now} /> : ""}
      {waiting ? "" : <ToolsSection connection={c} tools={props.tools} admin={props.admin} filter={props.filter} changed={props.changed} held={heldToolNames(props.review)} />}
    </div>
  );
}

/** The held tools' names, for their badge in the tool list (admins: the review has the diff). */
function heldToolNames(review: ReviewModel | undefined): ReadonlySet<string> | undefined {
  return review ? new Set(review.held.filter((entry) => entry.kind === "tool").map((entry) => entry.name)) : undefined;
}

/**
 * Status, why, last sync and counts: polled by htmx every few seconds so a page left open shows a
 * connection failing or recovering; without JavaScript a reload shows the same.
 */
export function LiveStatus(props: { connection: ConnectionMeta; now: number }): JSX.Element {
  const c = props.connection;
  return (
    <div id="live-status" class="live-status stack" hx-get={`${connectionPath(c)}/status`} hx-trigger="every 5s" hx-swap="outerHTML">
      <p class="actions">
        <StatusBadge connection={c} />
        <span class="muted">
          Last sync: <RelativeTime ms={c.lastSyncedAt} now={props.now} />
        </span>
        <span class="muted" safe>{`${c.enabledToolCount} of ${c.toolCount} tools exposed`}</span>
      </p>
      {c.statusDetail && c.status !== "connected" ? (
        <p class="status-detail" safe>
          {c.statusDetail}
        </p>
      ) : (
        ""
      )}
    </div>
  );
}

/** A shared OAuth connection never authorized: Connect is its one next step. */
function isWaitingForOAuth(c: ConnectionMeta): boolean {
  return c.authKind === "oauth" && c.sharing !== "per_member" && c.status === "needs_reauth" && c.lastSyncedAt === null;
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

/** When the connection's status changed, from what, to what, and why; polled like the status. */
export function StatusHistory(props: { connection: Pick<ConnectionMeta, "id">; events: StatusEvent[]; now: number }): JSX.Element {
  return (
    <section class="card stack" id="history" aria-labelledby="history-title" hx-get={`${connectionPath(props.connection)}/history`} hx-trigger="every 5s" hx-swap="outerHTML">
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
                    <RelativeTime ms={e.at} now={props.now} />
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
