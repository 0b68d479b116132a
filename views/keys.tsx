import type { ApiKeySummary } from "../src/accounts/api-keys.ts";
import type { GrantSummary } from "../src/oauth-server/tokens.ts";
import { FieldError, Layout } from "./layout.tsx";
import { Time } from "./components.tsx";
import { ClientSetupList } from "./client-setup.tsx";

function profileLabel(name: string): string {
  return `Profile ${name}`;
}

/** A profile a key or app can be limited to. */
export type ProfileChoice = { id: string; name: string };

export type KeysPageProps = {
  user: { email: string; role: string };
  keys: ApiKeySummary[];
  /** Clients this member let in through OAuth. */
  grants: GrantSummary[];
  mcpUrl: string;
  /** A key just made: shown once in place of the form. */
  created?: { name: string; key: string };
  flash?: string | null;
  /** The workspace's profiles, for the key form and (admins) the apps' profiles. */
  profiles?: ProfileChoice[];
};

export function KeysPage(props: KeysPageProps): JSX.Element {
  return (
    <Layout title="API keys" user={props.user} active="keys" flash={props.flash}>
      <h1>API keys</h1>
      <p>
        An MCP client uses one key to reach every tool at <code safe>{props.mcpUrl}</code>. A key is shown once, when it is made.
      </p>
      {props.created ? <NewKey name={props.created.name} apiKey={props.created.key} mcpUrl={props.mcpUrl} /> : <CreateKeyForm profiles={props.profiles} />}
      <KeyList keys={props.keys} />
      <GrantList grants={props.grants} profiles={props.profiles} canLimit={props.user.role === "owner" || props.user.role === "admin"} />
    </Layout>
  );
}

export function CreateKeyForm(props: { errors?: Record<string, string>; name?: string; profiles?: ProfileChoice[]; profileId?: string }): JSX.Element {
  const errors = props.errors ?? {};
  return (
    <form id="create-key" method="post" action="/keys" hx-post="/keys" hx-target="this" hx-swap="outerHTML" class="card stack">
      <h2>Create a key</h2>
      <label for="key-name">Name</label>
      <input id="key-name" name="name" required maxlength="64" placeholder="e.g. claude-code on my laptop" value={props.name ?? ""} aria-describedby="name-error" />
      <FieldError errors={errors} field="name" />
      {props.profiles && props.profiles.length > 0 ? (
        <>
          <label for="key-profile">Limited to</label>
          <select id="key-profile" name="profile" aria-describedby="profile-error">
            <option value="">The whole workspace</option>
            {props.profiles.map((p) => (
              <option value={p.id} selected={props.profileId === p.id} safe>
                {`Profile ${p.name}`}
              </option>
            ))}
          </select>
          <FieldError errors={errors} field="profile" />
        </>
      ) : (
        ""
      )}
      <FieldError errors={errors} field="keys" />
      <button type="submit">
        Create key <span class="spinner htmx-indicator" aria-hidden="true"></span>
      </button>
    </form>
  );
}

/** Shown once in place of the form; the list below refreshes through the redirect-free swap. */
export function NewKey(props: { name: string; apiKey: string; mcpUrl: string }): JSX.Element {
  return (
    <section id="create-key" class="card stack new-key" aria-live="polite">
      <h2>
        Key “<span safe>{props.name}</span>” created
      </h2>
      <p>Copy it now: it will not be shown again.</p>
      <div class="copy-row">
        <pre class="secret" id="new-key-value" safe>{props.apiKey}</pre>
        <button type="button" data-copy="new-key-value">Copy key</button>
      </div>
      <p>Set up your client with it (open one):</p>
      <ClientSetupList mcpUrl={props.mcpUrl} apiKey={props.apiKey} idPrefix="new-key" />
      <p>
        <a href="/keys">Done</a>
      </p>
    </section>
  );
}

/** Revoke: without JavaScript the form's GET leads to a page that asks first; with it, htmx asks (hx-confirm) and posts. */
export function KeyList(props: { keys: ApiKeySummary[]; notice?: string }): JSX.Element {
  return (
    <section id="key-list" class="card">
      <h2>Your keys</h2>
      {props.notice ? (
        <p class="flash" role="status" safe>
          {props.notice}
        </p>
      ) : (
        ""
      )}
      {props.keys.length === 0 ? (
        <p class="muted">No keys yet.</p>
      ) : (
        <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Key</th>
              <th scope="col">Owner</th>
              <th scope="col">Limited to</th>
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col"></th>
            </tr>
          </thead>
          <tbody>
            {props.keys.map((k) => (
              <tr id={`key-${k.id}`}>
                <td safe>{k.name}</td>
                <td>
                  <code safe>{k.prefix}…</code>
                </td>
                <td safe>{k.userEmail}</td>
                <td>{k.profileName ? <span safe>{profileLabel(k.profileName)}</span> : "The whole workspace"}</td>
                <td>
                  <Time ms={k.createdAt} />
                </td>
                <td>
                  <Time ms={k.lastUsedAt} />
                </td>
                <td>
                  {k.revokedAt ? (
                    <span class="badge badge-muted">revoked</span>
                  ) : (
                    <form method="get" action={`/keys/${k.id}/revoke`} hx-post={`/keys/${k.id}/revoke`} hx-target="#key-list" hx-swap="outerHTML" hx-confirm="Revoke this key? Clients using it stop working at once.">
                      <button type="submit" class="danger">
                        Revoke <span class="visually-hidden" safe>{k.name}</span>
                      </button>
                    </form>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        </div>
      )}
    </section>
  );
}

/** OAuth clients the member approved (clients that connected by URL alone); each can be revoked. */
export function GrantList(props: { grants: GrantSummary[]; notice?: string; profiles?: ProfileChoice[]; canLimit?: boolean }): JSX.Element {
  const profileName = (id: string | null): string => (id === null ? "The whole workspace" : `Profile ${props.profiles?.find((p) => p.id === id)?.name ?? "(deleted)"}`);
  return (
    <section id="grant-list" class="card">
      <h2>Apps you allowed</h2>
      {props.notice ? (
        <p class="flash" role="status" safe>
          {props.notice}
        </p>
      ) : (
        ""
      )}
      {props.grants.length === 0 ? (
        <p class="muted">No app signed in with OAuth yet. A client given only the MCP URL asks you to sign in and allow it.</p>
      ) : (
        <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">App</th>
              <th scope="col">Limited to</th>
              <th scope="col">Allowed</th>
              <th scope="col">Last used</th>
              <th scope="col"></th>
            </tr>
          </thead>
          <tbody>
            {props.grants.map((g) => (
              <tr id={`grant-${g.id}`}>
                <td>
                  <span safe>{g.clientName}</span>
                  {g.clientId.startsWith("https://") ? (
                    <span class="muted sub" safe>
                      {new URL(g.clientId).host}
                    </span>
                  ) : (
                    ""
                  )}
                </td>
                <td>
                  {props.canLimit && props.profiles && props.profiles.length > 0 ? (
                    <form method="post" action={`/keys/grants/${g.id}/profile`} class="inline">
                      <label for={`grant-profile-${g.id}`} class="visually-hidden" safe>
                        {`Profile of ${g.clientName}`}
                      </label>
                      <select id={`grant-profile-${g.id}`} name="profile">
                        <option value="" selected={g.profileId === null}>The whole workspace</option>
                        {props.profiles.map((p) => (
                          <option value={p.id} selected={g.profileId === p.id} safe>
                            {`Profile ${p.name}`}
                          </option>
                        ))}
                      </select>
                      <button type="submit" class="secondary">
                        Save <span class="visually-hidden" safe>{`profile of ${g.clientName}`}</span>
                      </button>
                    </form>
                  ) : (
                    <span safe>{profileName(g.profileId)}</span>
                  )}
                </td>
                <td>
                  <Time ms={g.createdAt} />
                </td>
                <td>
                  <Time ms={g.lastUsedAt} />
                </td>
                <td>
                  <form method="get" action={`/keys/grants/${g.id}/revoke`} hx-post={`/keys/grants/${g.id}/revoke`} hx-target="#grant-list" hx-swap="outerHTML" hx-confirm="Revoke this app's access? It stops working at once.">
                    <button type="submit" class="danger">
                      Revoke <span class="visually-hidden" safe>{g.clientName}</span>
                    </button>
                  </form>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        </div>
      )}
    </section>
  );
}

/** Revoke asks first without JavaScript too: the Revoke button's GET lands here. */
export function RevokePage(props: { user: { email: string; role: string }; kind: "key" | "grant"; id: string; name: string }): JSX.Element {
  const action = props.kind === "key" ? `/keys/${props.id}/revoke` : `/keys/grants/${props.id}/revoke`;
  const what = props.kind === "key" ? "key" : "app's access";
  return (
    <Layout title={props.kind === "key" ? "Revoke key" : "Revoke app"} user={props.user} active="keys">
      <section class="card narrow stack">
        <h1>
          Revoke the {what} “<span safe>{props.name}</span>”?
        </h1>
        <p>{props.kind === "key" ? "Clients using this key stop working at once. This cannot be undone." : "The app stops working at once; it can ask you again later."}</p>
        <form method="post" action={action} class="actions">
          <button type="submit" class="danger">
            Revoke
          </button>
          <a href="/keys">Cancel</a>
        </form>
      </section>
    </Layout>
  );
}
