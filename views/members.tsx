import type { MemberSummary } from "../src/accounts/members.ts";
import type { PendingInvite } from "../src/accounts/invites.ts";
import type { Viewer } from "../src/web/viewer.ts";
import { FieldError, Layout } from "./layout.tsx";
import { Time } from "./components.tsx";

export type MembersPanelProps = {
  viewerId: string;
  members: MemberSummary[];
  invites: PendingInvite[];
  /** What the last action did, said once at the top. */
  notice?: string;
  error?: string;
  /** A link just made: shown once, never stored. */
  created?: { email: string; link: string };
  /** A refused invitation: the fields keep what was typed. */
  inviteForm?: { email: string; role: string; errors: Record<string, string> };
};

export function MembersPage(props: MembersPanelProps & { user: Viewer }): JSX.Element {
  return (
    <Layout title="Members" user={props.user} active="members">
      <h1>Members</h1>
      <MembersPanel {...props} />
    </Layout>
  );
}

/**
 * Everything on the page that changes: each form posts here, and with htmx the answer replaces
 * this panel (the action's notice at its top); without JavaScript the browser goes back to the page.
 */
export function MembersPanel(props: MembersPanelProps): JSX.Element {
  return (
    <div id="members-panel" class="stack">
      {props.notice ? (
        <p role="status" class="card" safe>
          {props.notice}
        </p>
      ) : (
        ""
      )}
      {props.error ? (
        <p role="alert" class="field-error card" safe>
          {props.error}
        </p>
      ) : (
        ""
      )}
      <InviteSection {...props} />
      <MemberTable members={props.members} viewerId={props.viewerId} />
    </div>
  );
}

function InviteSection(props: MembersPanelProps): JSX.Element {
  const form = props.inviteForm ?? { email: "", role: "member", errors: {} };
  return (
    <section class="card stack" aria-labelledby="invite-title">
      <h2 id="invite-title">Invite someone</h2>
      <p class="muted">The link works once, for 7 days. Send it to them yourself: the gateway sends no email.</p>
      {props.created ? (
        <div class="stack new-key" aria-live="polite">
          <p>
            Invitation for <strong safe>{props.created.email}</strong> created. Copy the link now: it will not be shown again.
          </p>
          <pre class="secret" id="invite-link" safe>
            {props.created.link}
          </pre>
          <button type="button" data-copy="invite-link">Copy link</button>
        </div>
      ) : (
        ""
      )}
      <form method="post" action="/members/invites" hx-post="/members/invites" hx-target="#members-panel" hx-swap="outerHTML" class="stack">
        <label for="invite-email">Email</label>
        <input id="invite-email" name="email" type="email" required value={form.email} aria-describedby="email-error" />
        <FieldError errors={form.errors} field="email" />
        <label for="invite-role">Role</label>
        <select id="invite-role" name="role" aria-describedby="role-error">
          <option value="member" selected={form.role !== "admin"}>
            member
          </option>
          <option value="admin" selected={form.role === "admin"}>
            admin
          </option>
        </select>
        <FieldError errors={form.errors} field="role" />
        <button type="submit">Create invitation link</button>
      </form>
      <h3>Pending invitations</h3>
      {props.invites.length === 0 ? (
        <p class="muted">None.</p>
      ) : (
        <div class="table-wrap">
          <table id="pending-invites">
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">Expires</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {props.invites.map((invite) => (
                <tr>
                  <td safe>{invite.email}</td>
                  <td>{invite.role}</td>
                  <td>
                    <Time ms={invite.expiresAt} />
                  </td>
                  <td>
                    <form
                      method="post"
                      action={`/members/invites/${invite.id}/revoke`}
                      hx-post={`/members/invites/${invite.id}/revoke`}
                      hx-target="#members-panel"
                      hx-swap="outerHTML"
                      class="inline"
                    >
                      <button type="submit" class="secondary" aria-label={`Revoke the invitation for ${invite.email}`}>
                        Revoke
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

function memberStatus(member: MemberSummary): string {
  if (member.disabledAt === null) return "active";
  if (member.disabledReason === "directory") return "deactivated by the directory";
  if (member.disabledReason === "idp") return "signed out: the identity provider refused";
  return "deactivated";
}

/**
 * A button that changes a member. With htmx it asks in a dialog and sends `confirmed=yes`;
 * without JavaScript the POST comes without it and the server answers with a page that asks.
 */
function ActionForm(props: { action: string; label: string; confirm: string; danger?: boolean; fields?: JSX.Element; accessibleName: string }): JSX.Element {
  return (
    <form method="post" action={props.action} hx-post={props.action} hx-target="#members-panel" hx-swap="outerHTML" hx-confirm={props.confirm} hx-vals='{"confirmed":"yes"}' class="inline">
      {(props.fields ?? "") as "safe"}
      <button type="submit" class={props.danger ? "danger" : "secondary"} aria-label={props.accessibleName}>
        {props.label as "safe"}
      </button>
    </form>
  );
}

function MemberTable(props: { members: MemberSummary[]; viewerId: string }): JSX.Element {
  return (
    <section class="card" aria-labelledby="members-title">
      <h2 id="members-title">Members</h2>
      <div class="table-wrap">
        <table id="member-table">
          <thead>
            <tr>
              <th scope="col">Email</th>
              <th scope="col">Role</th>
              <th scope="col">Last sign-in</th>
              <th scope="col">Status</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {props.members.map((m) => {
              const base = `/members/${m.userId}`;
              const locked = m.role === "owner" || m.userId === props.viewerId;
              const otherRole = m.role === "admin" ? "member" : "admin";
              return (
                <tr id={`member-${m.userId}`}>
                  <td safe>{m.email}</td>
                  <td>{m.role}</td>
                  <td>
                    <Time ms={m.lastSignInAt} />
                  </td>
                  <td safe>{memberStatus(m)}</td>
                  <td>
                    {locked ? (
                      <span class="muted">{m.role === "owner" ? "the owner" : "you"}</span>
                    ) : (
                      <div class="actions">
                        <ActionForm
                          action={`${base}/role`}
                          label={otherRole === "admin" ? "Make admin" : "Make member"}
                          accessibleName={`${otherRole === "admin" ? "Make admin" : "Make member"}: ${m.email}`}
                          confirm={`Make ${m.email} ${otherRole === "admin" ? "an admin? Admins manage connections, keys and members." : "a member? They lose admin rights at once."}`}
                          fields={<input type="hidden" name="role" value={otherRole} />}
                        />
                        {m.disabledAt === null ? (
                          <ActionForm
                            action={`${base}/deactivate`}
                            label="Deactivate"
                            accessibleName={`Deactivate ${m.email}`}
                            confirm={`Deactivate ${m.email}? Their sessions, API keys and OAuth grants end at once.`}
                            danger
                          />
                        ) : (
                          <ActionForm action={`${base}/reactivate`} label="Reactivate" accessibleName={`Reactivate ${m.email}`} confirm={`Reactivate ${m.email}? They sign in again; their old keys stay revoked.`} />
                        )}
                        <ActionForm
                          action={`${base}/remove`}
                          label="Remove"
                          accessibleName={`Remove ${m.email}`}
                          confirm={`Remove ${m.email} from the workspace? Their access ends at once; an invitation can bring them back.`}
                          danger
                        />
                      </div>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}
