import type { ConnectionMeta } from "../src/connections/types.ts";
import type { ToolRow } from "../src/connections/types.ts";
import type { Viewer } from "../src/web/viewer.ts";
import { FieldError, Layout } from "./layout.tsx";
import { AuthFields, ExposeAllChoice, StatusBadge, Time, type AuthFieldsProps } from "./components.tsx";
import { OAuthConnectButton } from "./oauth.tsx";
import { AUTH_KINDS } from "../src/connections/auth-kinds/registry.ts";


export function ConnectionsPage(props: { user: Viewer; connections: ConnectionMeta[]; mcpUrl: string; usage?: (c: ConnectionMeta) => JSX.Element }): JSX.Element {
  return (
    <Layout title="Connections" user={props.user} active="connections">
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
      <EndpointCard mcpUrl={props.mcpUrl} />
      {props.connections.length === 0 ? (
        <EmptyState admin={props.user.admin} />
      ) : (
        <ul class="cards" aria-label="Connected servers">
          {props.connections.map((c) => (
            <ConnectionCard connection={c} admin={props.user.admin} usage={props.usage?.(c)} />
          ))}
        </ul>
      )}
    </Layout>
  );
}

export function EndpointCard(props: { mcpUrl: string }): JSX.Element {
  const line = `claude mcp add --transport http gateway ${props.mcpUrl} --header "Authorization: Bearer <your key>"`;
  return (
    <section class="card stack" aria-labelledby="endpoint-title">
      <h2 id="endpoint-title">Your endpoint</h2>
      <p>Every enabled tool of every connection, at one URL, with one gateway API key.</p>
      <div class="copy-row">
        <code id="endpoint-url" safe>{props.mcpUrl}</code>
        <button type="button" class="secondary small" data-copy="endpoint-url">Copy URL</button>
      </div>
      <p>Add it to Claude Code (replace the placeholder with a key from <a href="/keys">API keys</a>):</p>
      <div class="copy-row">
        <pre id="endpoint-line" safe>{line}</pre>
        <button type="button" class="secondary small" data-copy="endpoint-line">Copy command</button>
      </div>
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

export function ConnectionCard(props: { connection: ConnectionMeta; admin?: boolean; usage?: JSX.Element }): JSX.Element {
  const c = props.connection;
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
        Last sync: <Time ms={c.lastSyncedAt} />
      </p>
      {(props.usage ?? "") as "safe"}
      {c.statusDetail && c.status !== "connected" ? (
        <p class="status-detail" safe>
          {c.statusDetail}
        </p>
      ) : (
        ""
      )}
      {props.admin && c.authKind === "oauth" && c.status === "needs_reauth" ? <OAuthConnectButton connection={c} /> : ""}
    </li>
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

export function PickToolsPage(props: { user: Viewer; connection: ConnectionMeta; tools: ToolRow[]; keys: string[] }): JSX.Element {
  return (
    <Layout title="Choose tools" user={props.user} active="connections">
      <h1>Add server</h1>
      <PickTools connection={props.connection} tools={props.tools} keys={props.keys} />
    </Layout>
  );
}

/** After a server is added: which of its tools to expose. `keys[i]` identifies `tools[i]` in the form. */
export function PickTools(props: { connection: ConnectionMeta; tools: ToolRow[]; keys: string[] }): JSX.Element {
  const c = props.connection;
  const base = `/connections/${encodeURIComponent(c.id)}`;
  // Before the first pick nothing is exposed; every box starts ticked as a suggestion to review.
  const picked = c.exposeNewTools;
  return (
    <form id="add-server" method="post" action={`${base}/expose`} hx-post={`${base}/expose`} hx-target="this" hx-swap="outerHTML" class="card stack" aria-labelledby="pick-title">
      <h2 id="pick-title">
        Connected to <span safe>{c.name}</span>: <span safe>{`${props.tools.length} ${props.tools.length === 1 ? "tool" : "tools"} found`}</span>
      </h2>
      {props.tools.length === 0 ? (
        <p>The server lists no tools yet. Re-sync it from its page when it has some.</p>
      ) : (
        <fieldset class="stack">
          <legend>Choose the tools the gateway exposes. None is exposed until you save; you can change this later.</legend>
          {props.tools.map((tool, i) => (
            <label class="pick">
              <input type="checkbox" name="tool" value={props.keys[i] ?? ""} checked={tool.enabled || !picked} />
              <span>
                <code safe>{tool.exposedName}</code>
                {tool.description ? (
                  <span class="muted tool-desc" safe>
                    {shorten(tool.description, 200)}
                  </span>
                ) : (
                  ""
                )}
              </span>
            </label>
          ))}
        </fieldset>
      )}
      <div class="actions">
        <button type="submit">Save and continue</button>
      </div>
    </form>
  );
}

export function shorten(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
