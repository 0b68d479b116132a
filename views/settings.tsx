import type { MemberSummary } from "../src/accounts/members.ts";
import type { ScimTokenSummary } from "../src/scim/tokens.ts";
import type { SsoProvider, SsoProviderForm } from "../src/sso/providers.ts";
import { FieldError, Layout } from "./layout.tsx";
import { formatTime } from "./format.ts";

type User = { email: string; role: string };

export type SsoSettingsProps = {
  provider: SsoProvider | null;
  redirectUri: string;
  /** Values to show after a refused save; never the secret. */
  form?: SsoProviderForm;
  errors?: Record<string, string>;
  notice?: string;
};

export type ScimSettingsProps = {
  scimUrl: string;
  tokens: ScimTokenSummary[];
  created?: { name: string; token: string };
  errors?: Record<string, string>;
  name?: string;
};

export type MemberListProps = { members: MemberSummary[]; error?: string };

export type SettingsPageProps = { user: User; sso: SsoSettingsProps; scim: ScimSettingsProps; members: MemberListProps };

export function SettingsPage(props: SettingsPageProps): JSX.Element {
  return (
    <Layout title="Workspace settings" user={props.user} active="settings">
      <h1>Workspace settings</h1>
      <SsoSettings {...props.sso} />
      <ScimSettings {...props.scim} />
      <MemberList {...props.members} />
    </Layout>
  );
}

function SsoStatus(props: { provider: SsoProvider | null }): JSX.Element {
  const p = props.provider;
  if (!p) return <span class="badge badge-muted">not set up</span>;
  if (p.status === "active") {
    return (
      <span class="badge badge-ok">
        on{p.approvedAt ? <span safe>{` since ${formatTime(p.approvedAt)}`}</span> : ""}
      </span>
    );
  }
  return <span class="badge badge-warn">waiting for a test sign-in</span>;
}

/** The identity provider: saved as pending, switched on by one successful test sign-in. */
export function SsoSettings(props: SsoSettingsProps): JSX.Element {
  const errors = props.errors ?? {};
  const p = props.provider;
  const value = (field: keyof SsoProviderForm, stored: string | null | undefined): string => props.form?.[field] ?? stored ?? "";
  return (
    <section id="sso-settings" class="card stack">
      <h2>
        Single sign-on <SsoStatus provider={p} />
      </h2>
      <p>
        Connect your company's OpenID Connect provider. Register this redirect URI for the gateway there: <code safe>{props.redirectUri}</code>
      </p>
      {p ? (
        <p class="muted">
          Changing the issuer or client id unlinks every member from this provider. Members made by SSO or SCIM are linked again when they next sign in;
          password accounts link from their Account page.
        </p>
      ) : (
        ""
      )}
      {props.notice ? (
        <p role="status" safe>
          {props.notice}
        </p>
      ) : (
        ""
      )}
      <form method="post" action="/settings/sso" hx-post="/settings/sso" hx-target="#sso-settings" hx-swap="outerHTML" class="stack">
        <FieldError errors={errors} field="form" />
        <label for="sso-issuer">Issuer URL</label>
        <input id="sso-issuer" name="issuer" required placeholder="https://login.example.com/oauth2/default" value={value("issuer", p?.issuer)} aria-describedby="issuer-error" />
        <FieldError errors={errors} field="issuer" />
        <label for="sso-client-id">Client id</label>
        <input id="sso-client-id" name="clientId" required value={value("clientId", p?.clientId)} aria-describedby="clientId-error" />
        <FieldError errors={errors} field="clientId" />
        <label for="sso-client-secret">Client secret</label>
        <input
          id="sso-client-secret"
          name="clientSecret"
          type="password"
          autocomplete="off"
          required={!p}
          placeholder={p ? "stored; leave empty to keep it" : ""}
          aria-describedby="clientSecret-error"
        />
        <FieldError errors={errors} field="clientSecret" />
        <label for="sso-name">Button name</label>
        <input id="sso-name" name="name" maxlength="64" placeholder="e.g. Okta (shown as “Sign in with …”)" value={value("name", p?.name)} aria-describedby="name-error" />
        <FieldError errors={errors} field="name" />
        <label for="sso-domain">Allowed email domain (optional)</label>
        <input id="sso-domain" name="allowedDomain" placeholder="example.com" value={value("allowedDomain", p?.allowedDomain)} aria-describedby="allowedDomain-error" />
        <FieldError errors={errors} field="allowedDomain" />
        <label for="sso-groups-claim">Groups claim</label>
        <input id="sso-groups-claim" name="groupsClaim" value={value("groupsClaim", p?.groupsClaim ?? "groups")} aria-describedby="groupsClaim-error" />
        <FieldError errors={errors} field="groupsClaim" />
        <label for="sso-mapping">Group → role (optional, one group=role a line; everyone else is a member)</label>
        <textarea id="sso-mapping" name="roleMapping" rows="3" placeholder="eng-admins=admin" aria-describedby="roleMapping-error" safe>
          {value("roleMapping", p?.roleMapping)}
        </textarea>
        <FieldError errors={errors} field="roleMapping" />
        <button type="submit">
          Save provider <span class="spinner htmx-indicator" aria-hidden="true"></span>
        </button>
      </form>
      {p ? (
        <div class="stack">
          <p class="muted">
            {p.status === "active"
              ? "Members see “Sign in with” on the sign-in page. A new issuer, client id or secret needs a new test sign-in."
              : "Sign in once through the provider to check it; single sign-on is switched on when that works."}
          </p>
          <div>
            {/* A plain form: the browser must leave for the provider, which htmx would not do. */}
            <form method="post" action="/settings/sso/test" class="inline">
              <button type="submit" class="secondary">Test sign-in</button>
            </form>{" "}
            <form method="post" action="/settings/sso/remove" hx-post="/settings/sso/remove" hx-target="#sso-settings" hx-swap="outerHTML" hx-confirm="Remove the identity provider? Members can no longer sign in through it." class="inline">
              <button type="submit" class="danger">Remove provider</button>
            </form>
          </div>
        </div>
      ) : (
        ""
      )}
    </section>
  );
}

/** The directory's SCIM client: tokens shown once, revocable. */
export function ScimSettings(props: ScimSettingsProps): JSX.Element {
  const errors = props.errors ?? {};
  return (
    <section id="scim-settings" class="card stack">
      <h2>Directory sync (SCIM)</h2>
      <p>
        Your identity provider can create, update and deactivate members through SCIM 2.0 at <code safe>{props.scimUrl}</code> with a token from here.
        Deactivating someone ends their sessions and revokes their API keys at once.
      </p>
      {props.created ? (
        <div class="stack new-key" aria-live="polite">
          <p>
            Token “<span safe>{props.created.name}</span>” created. Copy it now: it will not be shown again.
          </p>
          <pre class="secret" id="new-scim-token" safe>
            {props.created.token}
          </pre>
          <button type="button" data-copy="new-scim-token">Copy token</button>
        </div>
      ) : (
        ""
      )}
      <form method="post" action="/settings/scim/tokens" hx-post="/settings/scim/tokens" hx-target="#scim-settings" hx-swap="outerHTML" class="stack">
        <label for="scim-token-name">New token name</label>
        <input id="scim-token-name" name="name" required maxlength="64" placeholder="e.g. Okta provisioning" value={props.name ?? ""} aria-describedby="name-error" />
        <FieldError errors={errors} field="name" />
        <button type="submit">Create SCIM token</button>
      </form>
      {props.tokens.length === 0 ? (
        <p class="muted">No SCIM tokens yet.</p>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Token</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col"></th>
              </tr>
            </thead>
            <tbody>
              {props.tokens.map((token) => (
                <tr>
                  <td safe>{token.name}</td>
                  <td>
                    <code safe>{token.prefix}…</code>
                  </td>
                  <td safe>{formatTime(token.createdAt)}</td>
                  <td>{token.lastUsedAt ? formatTime(token.lastUsedAt) : "never"}</td>
                  <td>
                    {token.revokedAt ? (
                      <span class="badge badge-muted">revoked</span>
                    ) : (
                      <form
                        method="post"
                        action={`/settings/scim/tokens/${token.id}/revoke`}
                        hx-post={`/settings/scim/tokens/${token.id}/revoke`}
                        hx-target="#scim-settings"
                        hx-swap="outerHTML"
                        hx-confirm="Revoke this token? The directory can no longer sync members."
                      >
                        <button type="submit" class="danger">Revoke</button>
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

function memberStatus(member: MemberSummary): string {
  if (member.disabledAt === null) return "active";
  if (member.disabledReason === "directory") return "deactivated by the directory";
  if (member.disabledReason === "idp") return "signed out: the identity provider refused";
  return "deactivated";
}

export function MemberList(props: MemberListProps): JSX.Element {
  return (
    <section id="members" class="card">
      <h2>Members</h2>
      {props.error ? (
        <p class="field-error" role="alert" safe>
          {props.error}
        </p>
      ) : (
        ""
      )}
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Email</th>
              <th scope="col">Source</th>
              <th scope="col">Role</th>
              <th scope="col">Last sign-in</th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {props.members.map((m) => (
              <tr id={`member-${m.userId}`}>
                <td safe>{m.email}</td>
                <td>{m.source === "sso" ? "SSO" : m.ssoLinked ? "local, linked to SSO" : "local"}</td>
                <td>
                  {m.role === "owner" ? (
                    "owner"
                  ) : (
                    <form method="post" action={`/settings/members/${m.userId}/role`} hx-post={`/settings/members/${m.userId}/role`} hx-target="#members" hx-swap="outerHTML" class="inline">
                      <select id={`role-${m.userId}`} name="role" aria-label={`Role of ${m.email}`}>
                        <option value="member" selected={m.role === "member"}>
                          member
                        </option>
                        <option value="admin" selected={m.role === "admin"}>
                          admin
                        </option>
                      </select>{" "}
                      <button type="submit" class="secondary">Change</button>
                    </form>
                  )}
                </td>
                <td>{m.lastSignInAt ? formatTime(m.lastSignInAt) : "never"}</td>
                <td safe>{memberStatus(m)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
