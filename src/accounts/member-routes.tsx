import { Elysia, type AnyElysia } from "elysia";
import type { AppDeps } from "../deps.ts";
import { ConfirmPage } from "../../views/confirm.tsx";
import { MembersPage, MembersPanel, type MembersPanelProps } from "../../views/members.tsx";
import { htmlResponse, isHtmx, readForm, redirect } from "../web/http.ts";
import { withDeps } from "../web/plugin.ts";
import { toViewer } from "../web/viewer.ts";
import { createInvite, inviteLink, listPendingInvites, revokeInvite } from "./invites.ts";
import { deactivateMember, reactivateMember, removeMember, type MemberActionResult } from "./member-actions.ts";
import { changeMemberRole, listMembers } from "./members.ts";
import type { Principal } from "./principal.ts";

/** What a plain form's redirect may say: fixed sentences picked by key, never text from the query. */
const NOTICES: Record<string, string> = {
  role: "The role was changed. It applies to their next request.",
  deactivated: "Deactivated. Their sessions, API keys and OAuth grants have ended.",
  reactivated: "Reactivated. They can sign in again; their earlier keys stay revoked.",
  removed: "Removed from the workspace. Their access has ended.",
  revoked: "The invitation was revoked: its link no longer works.",
};

type Action = {
  run: (deps: AppDeps, principal: Principal, userId: string, form: Record<string, string>) => Promise<MemberActionResult>;
  notice: keyof typeof NOTICES;
  question: (email: string, form: Record<string, string>) => string;
  label: (form: Record<string, string>) => string;
};

const ACTIONS: Record<string, Action> = {
  role: {
    run: (deps, principal, userId, form) => changeMemberRole(deps.database, principal, userId, form.role ?? ""),
    notice: "role",
    question: (email, form) => `Make ${email} ${form.role === "admin" ? "an admin? Admins manage connections, keys and members." : "a member? They lose admin rights at once."}`,
    label: (form) => (form.role === "admin" ? "Make admin" : "Make member"),
  },
  deactivate: {
    run: (deps, principal, userId) => deactivateMember(deps.database, principal, userId, deps.clock()),
    notice: "deactivated",
    question: (email) => `Deactivate ${email}? Their sessions, API keys and OAuth grants end at once.`,
    label: () => "Deactivate",
  },
  reactivate: {
    run: (deps, principal, userId) => reactivateMember(deps.database, principal, userId),
    notice: "reactivated",
    question: (email) => `Reactivate ${email}? They sign in again; their old keys stay revoked.`,
    label: () => "Reactivate",
  },
  remove: {
    run: (deps, principal, userId) => removeMember(deps.database, principal, userId, deps.clock()),
    notice: "removed",
    question: (email) => `Remove ${email} from the workspace? Their access ends at once.`,
    label: () => "Remove",
  },
};

/** The Members page (admins): invitations, roles, deactivation and removal. */
export function memberRoutes(deps: AppDeps): AnyElysia {
  const { database, config, log } = deps;
  const panelProps = async (principal: Principal, extra: Partial<MembersPanelProps> = {}): Promise<MembersPanelProps> => ({
    viewerId: principal.userId,
    members: await listMembers(database, principal.workspaceId),
    invites: await listPendingInvites(database, principal.workspaceId, deps.clock()),
    ...extra,
  });
  const answer = async (request: Request, principal: Principal, extra: Partial<MembersPanelProps>, status = 200, headers: Record<string, string> = {}): Promise<Response> => {
    const props = await panelProps(principal, extra);
    return htmlResponse(isHtmx(request) ? <MembersPanel {...props} /> : <MembersPage {...props} user={toViewer(principal)} />, status, headers);
  };

  const app = new Elysia({ name: "members" })
    .use(withDeps(deps))
    .get("/members", async ({ request, principal }) => {
      const notice = NOTICES[new URL(request.url).searchParams.get("done") ?? ""];
      return answer(request, principal, { notice });
    }, { admin: true })
    .post("/members/invites", async ({ request, principal }) => {
      const form = await readForm(request);
      const result = await createInvite(database, principal, { email: form.email ?? "", role: form.role ?? "" }, deps.clock());
      if (!result.ok) return answer(request, principal, { inviteForm: { email: form.email ?? "", role: form.role ?? "member", errors: result.errors } }, 422);
      log.info("invitation created", { workspaceId: principal.workspaceId, inviteId: result.id, role: form.role });
      // The link is in this answer only: never cached, never shown again.
      const created = { email: (form.email ?? "").trim().toLowerCase(), link: inviteLink(config.baseUrl, result.token) };
      return answer(request, principal, { created }, 200, { "cache-control": "no-store" });
    }, { admin: true })
    .post("/members/invites/:id/revoke", async ({ request, params, principal }) => {
      if (await revokeInvite(database, principal.workspaceId, params.id, deps.clock())) log.info("invitation revoked", { inviteId: params.id });
      if (!isHtmx(request)) return redirect(request, "/members?done=revoked");
      return answer(request, principal, { notice: NOTICES.revoked });
    }, { admin: true });

  for (const [name, action] of Object.entries(ACTIONS)) {
    app.post(`/members/:id/${name}`, async ({ request, params, principal }) => {
      const form = await readForm(request);
      if (form.confirmed !== "yes") {
        const target = (await listMembers(database, principal.workspaceId)).find((m) => m.userId === params.id);
        const email = target?.email ?? "this person";
        const fields: Record<string, string> = name === "role" ? { role: form.role ?? "" } : {};
        return htmlResponse(
          <ConfirmPage user={toViewer(principal)} question={action.question(email, form)} action={`/members/${params.id}/${name}`} fields={fields} label={action.label(form)} back={{ href: "/members", tab: "members" }} />,
        );
      }
      const result = await action.run(deps, principal, params.id, form);
      if (!result.ok) return answer(request, principal, { error: result.error }, 422);
      log.info(`member ${name}`, { workspaceId: principal.workspaceId, userId: params.id, by: principal.userId, ...(name === "role" ? { role: form.role } : {}) });
      if (!isHtmx(request)) return redirect(request, `/members?done=${action.notice}`);
      return answer(request, principal, { notice: NOTICES[action.notice] });
    }, { admin: true });
  }
  return app;
}
