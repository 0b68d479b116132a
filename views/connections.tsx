import type { ConnectionMeta } from "../src/connections/types.ts";
import type { ToolRow } from "../src/connections/types.ts";
import type { Viewer } from "../src/web/viewer.ts";
import { FieldError, Layout } from "./layout.tsx";
import { AuthFields, ExposeAllChoice, RelativeTime, StatusBadge, type AuthFieldsProps } from "./components.tsx";
import { OAuthConnectButton } from "./oauth.tsx";
import { AUTH_KINDS } from "../src/connections/auth-kinds/registry.ts";
import { ClientSetupList } from "./client-setup.tsx";
import { matchesTool, type ToolFilter } from "../src/connections/tool-filter.ts";
import { describeHeld, heldTotal } from "../src/connections/held.ts";


export function ConnectionsPage(props: { user: Viewer; connections: ConnectionMeta[]; mcpUrl: string; now: number; flash?: string | null; usage?: (c: ConnectionMeta) => JSX.Element }): JSX.Element {
  return (
    <Layout title="Connections" user={props.user} active="connections" flash={props.flash}>
      <div class="page-head">
        <h1>Connections</h1>
        {props.user.admin ? (
          <a class="button" href="/connections/new">
            Add server
          </a>
        ) : (
          ""
        )}
      </div>
      {props.user.admin ? <HeldBanner connections={props.connections} /> : ""}
      <EndpointCard mcpUrl={props.mcpUrl} />
      {props.connections.length === 0 ? (
        <EmptyState admin={props.user.admin} />
      ) : (
        <ConnectionCards connections={props.connections} admin={props.user.admin} now={props.now} usage={props.usage} />
      )}
    </Layout>
  );
}

export function EndpointCard(props: { mcpUrl: string }): JSX.Element {
  return (
    <section class="card stack" aria-labelledby="endpoint-title" id="endpoint">
      <h2 id="endpoint-title">Your endpoint</h2>
      <p>Every enabled tool of every connection, at one URL, with one gateway API key.</p>
      <div class="copy-row">
        <code id="endpoint-url" safe>{props.mcpUrl}</code>
        <button type="button" class="secondary small" data-copy="endpoint-url">Copy URL</button>
      </div>
      <p>
        Set up your client (make a key on <a href="/keys">API keys</a>; its setup is shown there with the key filled in):
      </p>
      <ClientSetupList mcpUrl={props.mcpUrl} apiKey={null} idPrefix="endpoint" />
    </section>
  );
}

/** Above everything when any connection has changes held: which ones, each a link to its review. */
function HeldBanner(props: { connections: ConnectionMeta[] }): JSX.Element {
  const waiting = props.connections.filter((c) => heldTotal(c.held) > 0);
  if (waiting.length === 0) return "";
  const total = waiting.reduce((sum, c) => sum + heldTotal(c.held), 0);
  return (
    <section class="card stack review-banner" id="held-banner" role="status" aria-labelledby="held-banner-title">
      <h2 id="held-banner-title" safe>{`${total} ${total === 1 ? "change" : "changes"} held for review`}</h2>
      <p>Upstream servers changed tools you exposed. Until you review them, clients do not get the new definitions.</p>
      <ul>
        {waiting.map((c) => (
          <li>
            <a href={`/connections/${encodeURIComponent(c.id)}#review`} safe>
              {`${c.name}: ${describeHeld(c.held) ?? ""}`}
            </a>
          </li>
        ))}
      </ul>
    </section>
  );
}

function EmptyState(props: { admin: boolean }): JSX.Element {
  return (
    <section class="card empty">
      <h2>No servers yet</h2>
      {props.admin ? (
        <>
          <p>Connect an MCP server by its URL: the gateway discovers its tools and serves them at your endpoint.</p>
          <p>
            <a class="button" href="/connections/new">
              Add server
            </a>
          </p>
        </>
      ) : (
        <p>A workspace admin has not connected any server yet.</p>
      )}
    </section>
  );
}

const STATUS_ORDER: Record<ConnectionMeta["status"], number> = { error: 0, needs_reauth: 1, paused: 2, connected: 3 };

/** Failing connections first (they need someone), then by name. */
export function sortForAttention(connections: ConnectionMeta[]): ConnectionMeta[] {
  return [...connections].sort((a, b) => STATUS_ORDER[a.status] - STATUS_ORDER[b.status] || a.name.localeCompare(b.name));
}

/**
 * The cards, refreshed every few seconds by htmx (status, counts, times) without a reload; without
 * JavaScript a reload shows the same.
 */
export function ConnectionCards(props: { connections: ConnectionMeta[]; admin: boolean; now: number; usage?: (c: ConnectionMeta) => JSX.Element }): JSX.Element {
  return (
    <ul class="cards" id="connection-cards" aria-label="Connected servers" hx-get="/connections/cards" hx-trigger="every 5s" hx-swap="outerHTML">
      {sortForAttention(props.connections).map((c) => (
        <ConnectionCard connection={c} admin={props.admin} now={props.now} usage={props.usage?.(c)} />
      ))}
    </ul>
  );
}

export function ConnectionCard(props: { connection: ConnectionMeta; admin?: boolean; now: number; usage?: JSX.Element }): JSX.Element {
  const c = props.connection;
  const failing = c.status === "error" || c.status === "paused" || (c.status === "needs_reauth" && c.authKind !== "oauth");
  const sync = `/connections/${encodeURIComponent(c.id)}/sync?from=list`;
  return (
    <li class="card connection-card">
      <div class="card-head">
        <h2>
          <a href={`/connections/${encodeURIComponent(c.id)}`} safe>
            {c.name}
          </a>
        </h2>
        <StatusBadge connection={c} />
      </div>
      <p class="url" safe>
        {c.url}
      </p>
      <p>
        <strong safe>{`${c.enabledToolCount} of ${c.toolCount}`}</strong> tools exposed
      </p>
      <p class="muted">
        Last sync: <RelativeTime ms={c.lastSyncedAt} now={props.now} />
      </p>
      <HeldNote connection={c} admin={props.admin === true} />
      {(props.usage ?? "") as "safe"}
      {c.statusDetail && c.status !== "connected" ? (
        <p class="status-detail" safe>
          {c.statusDetail}
        </p>
      ) : (
        ""
      )}
      {props.admin && c.authKind === "oauth" && c.status === "needs_reauth" ? <OAuthConnectButton connection={c} /> : ""}
      {props.admin && failing ? (
        <form method="post" action={sync} hx-post={sync} hx-target="#connection-cards" hx-swap="outerHTML" hx-disable="find button" class="inline">
          <button type="submit" class="small">
            Retry now <span class="visually-hidden" safe>{c.name}</span>
          </button>
        </form>
      ) : (
        ""
      )}
    </li>
  );
}

/** "2 tools changed upstream — review": admins follow it to the review; members read that it waits for one. */
function HeldNote(props: { connection: ConnectionMeta; admin: boolean }): JSX.Element {
  const what = describeHeld(props.connection.held);
  if (what === null) return "";
  return (
    <p class="held-note">
      <span class="badge badge-warn">Held</span>{" "}
      {props.admin ? (
        <a href={`/connections/${encodeURIComponent(props.connection.id)}#review`} safe>
          {`${what} — review`}
        </a>
      ) : (
        <span safe>{`${what}: held until an admin reviews it`}</span>
      )}
    </p>
  );
}

export type AddServerValues = {
  name?: string;
  url?: string;
  auth?: AuthFieldsProps["kind"];
  header?: string;
  callTimeoutMs?: string;
  sharing?: "shared" | "per_member";
  exposeAll?: boolean;
};

export function AddServerPage(props: { user: Viewer; values?: AddServerValues; errors?: Record<string, string> }): JSX.Element {
  return (
    <Layout title="Add server" user={props.user} active="connections">
      <p>
        <a href="/">← Connections</a>
      </p>
      <h1>Add server</h1>
      <p>
        By URL below, or pick a well-known server from the <a href="/catalog">catalog</a>.
      </p>
      <AddServerForm values={props.values} errors={props.errors} />
    </Layout>
  );
}

/** Re-rendered with 422 and field messages; the typed token or header value is never sent back. */
export function AddServerForm(props: { values?: AddServerValues; errors?: Record<string, string> }): JSX.Element {
  const values = props.values ?? {};
  const errors = props.errors ?? {};
  return (
    <form id="add-server" method="post" action="/connections" hx-post="/connections" hx-target="this" hx-swap="outerHTML" hx-disable="find button" class="card stack">
      <label for="server-name">Name</label>
      <input id="server-name" name="name" required maxlength="32" autocomplete="off" spellcheck="false" placeholder="linear" value={values.name ?? ""} aria-describedby="name-help name-error" aria-invalid={errors.name ? "true" : undefined} />
      <p class="muted hint" id="name-help">
        The prefix of its tools (<code>name__tool</code>): lowercase letters, digits and dashes.
      </p>
      <FieldError errors={errors} field="name" />
      <label for="server-url">Server URL</label>
      <input id="server-url" name="url" type="url" required placeholder="https://mcp.example.com/mcp" value={values.url ?? ""} aria-describedby="url-error" aria-invalid={errors.url ? "true" : undefined} />
      <FieldError errors={errors} field="url" />
      <AuthFields kind={values.auth ?? "none"} kinds={AUTH_KINDS} header={values.header} errors={errors} legend="Authentication" />
      <fieldset class="stack">
        <legend>Whose credential</legend>
        <label class="choice">
          <input type="radio" name="sharing" value="shared" checked={values.sharing !== "per_member"} /> Shared: one credential for the whole workspace
        </label>
        <label class="choice">
          <input type="radio" name="sharing" value="per_member" checked={values.sharing === "per_member"} /> Per member: each member connects their own account (a token given here is yours)
        </label>
        <FieldError errors={errors} field="sharing" />
      </fieldset>
      <label for="server-timeout">Call timeout in milliseconds (optional)</label>
      <input id="server-timeout" name="callTimeoutMs" type="number" min="1000" max="3600000" step="1000" placeholder="60000" value={values.callTimeoutMs ?? ""} aria-describedby="callTimeoutMs-error" aria-invalid={errors.callTimeoutMs ? "true" : undefined} />
      <FieldError errors={errors} field="callTimeoutMs" />
      <ExposeAllChoice checked={values.exposeAll === true} />
      <div class="actions">
        <button type="submit">
          Add server <span class="spinner htmx-indicator" aria-hidden="true"></span>
        </button>
        <span class="muted htmx-indicator">Connecting and discovering tools…</span>
      </div>
    </form>
  );
}

export type PickToolsProps = {
  connection: ConnectionMeta;
  tools: ToolRow[];
  /** `keys[i]` identifies `tools[i]` in the form. */
  keys: string[];
  /** The keys ticked so far (carried by the form); null on arrival, when every box starts ticked as a suggestion. */
  ticked?: Set<string> | null;
  filter?: Pick<ToolFilter, "q" | "show">;
  notice?: string;
};

export function PickToolsPage(props: PickToolsProps & { user: Viewer }): JSX.Element {
  return (
    <Layout title="Choose tools" user={props.user} active="connections">
      <h1>Add server</h1>
      <PickTools {...props} />
    </Layout>
  );
}

/**
 * After a server is added: which of its tools to expose. Nothing is saved until "Save and continue";
 * search, filter and the bulk buttons post the ticks along and come back with them, so they work
 * without JavaScript and lose nothing (with htmx the list follows the typing).
 */
export function PickTools(props: PickToolsProps): JSX.Element {
  const c = props.connection;
  const base = `/connections/${encodeURIComponent(c.id)}`;
  return (
    <form id="add-server" method="post" action={`${base}/expose`} hx-post={`${base}/expose`} hx-target="this" hx-swap="outerHTML" class="card stack" aria-labelledby="pick-title">
      <h2 id="pick-title">
        Connected to <span safe>{c.name}</span>: <span safe>{`${props.tools.length} ${props.tools.length === 1 ? "tool" : "tools"} found`}</span>
      </h2>
      {props.tools.length === 0 ? (
        <p>The server lists no tools yet. Re-sync it from its page when it has some.</p>
      ) : (
        <>
          <div class="tool-filter">
            <div class="field stack">
              <label for="pick-q">Search tools</label>
              <input
                id="pick-q"
                name="q"
                type="search"
                value={props.filter?.q ?? ""}
                placeholder="name or description"
                autocomplete="off"
                hx-post={`${base}/expose/list`}
                hx-trigger="input changed delay:250ms"
                hx-include="closest form"
                hx-target="#pick-list"
                hx-swap="outerHTML"
              />
            </div>
            <div class="field stack">
              <label for="pick-show">Show</label>
              <select id="pick-show" name="show" hx-post={`${base}/expose/list`} hx-include="closest form" hx-target="#pick-list" hx-swap="outerHTML">
                <option value="all" selected={(props.filter?.show ?? "all") === "all"}>All tools</option>
                <option value="on" selected={props.filter?.show === "on"}>Ticked</option>
                <option value="off" selected={props.filter?.show === "off"}>Not ticked</option>
              </select>
            </div>
            {/* First submit button of the form: Enter in the search box filters rather than saves. */}
            <button type="submit" name="action" value="filter" class="secondary">
              Filter
            </button>
          </div>
          <PickList {...props} />
        </>
      )}
      <div class="actions">
        <button type="submit" name="action" value="save">
          Save and continue
        </button>
      </div>
    </form>
  );
}

/** The boxes: every tool is in the form (a hidden one keeps its tick), only the matching ones show. */
export function PickList(props: PickToolsProps): JSX.Element {
  // While nothing is exposed (before the first pick), every box starts ticked as a suggestion to review.
  const suggestAll = !props.connection.exposeNewTools && !props.tools.some((tool) => tool.enabled);
  const isTicked = (tool: ToolRow, key: string): boolean => (props.ticked ? props.ticked.has(key) : tool.enabled || suggestAll);
  const filter = { q: props.filter?.q ?? "", show: props.filter?.show ?? "all" };
  const shown = props.tools.filter((tool, i) => matchesTool(tool, isTicked(tool, props.keys[i] ?? ""), filter)).length;
  const ticked = props.tools.filter((tool, i) => isTicked(tool, props.keys[i] ?? "")).length;
  const filtered = filter.q !== "" || filter.show !== "all";
  return (
    <fieldset class="stack" id="pick-list">
      <legend>Choose the tools the gateway exposes. None is exposed until you save; you can change this later.</legend>
      <input type="hidden" name="ticks" value="carried" />
      <p class="muted" role="status" safe>
        {`${ticked} of ${props.tools.length} ticked.${filtered ? ` ${shown} match the search.` : ""}`}
      </p>
      {props.notice ? (
        <p class="flash" safe>
          {props.notice}
        </p>
      ) : (
        ""
      )}
      <div class="actions bulk-actions">
        {filtered ? (
          <>
            <button type="submit" name="action" value="shown-on" class="secondary small" safe>
              {`Tick the ${shown} shown`}
            </button>
            <button type="submit" name="action" value="shown-off" class="secondary small" safe>
              {`Untick the ${shown} shown`}
            </button>
          </>
        ) : (
          ""
        )}
        <button type="submit" name="action" value="all-on" class="secondary small">
          Tick all
        </button>
        <button type="submit" name="action" value="all-off" class="secondary small">
          Untick all
        </button>
      </div>
      {props.tools.map((tool, i) => {
        const key = props.keys[i] ?? "";
        const on = isTicked(tool, key);
        return (
          <label class="pick" hidden={!matchesTool(tool, on, filter)}>
            <input type="checkbox" name="tool" value={key} checked={on} />
            <span>
              <code safe>{tool.exposedName}</code>
              {tool.description ? (
                <span class="muted tool-desc" safe>
                  {shorten(tool.description, 140)}
                </span>
              ) : (
                ""
              )}
            </span>
          </label>
        );
      })}
    </fieldset>
  );
}

export function shorten(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
