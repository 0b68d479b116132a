import { Elysia, type AnyElysia } from "elysia";
import type { AppDeps } from "../deps.ts";
import { withDeps } from "../web/plugin.ts";
import { actorOf } from "../audit/context.ts";
import type { Principal } from "../accounts/principal.ts";
import { HttpError, htmlResponse, isHtmx, readForm, redirect } from "../web/http.ts";
import { withFlash } from "../web/flash.ts";
import type { ConnectionMeta } from "./types.ts";
import { HELD_MODES, type HeldMode } from "./held.ts";
import { approveChange, rejectChange, setReviewSettings } from "./review.ts";
import { findHeld, loadReview } from "./review-model.ts";
import { loadOwnConnection } from "./pages.tsx";
import { ReviewSection, type ReviewProps } from "../../views/connection-review.tsx";

const NOT_HELD = "That change is no longer held for review (someone decided, or the upstream changed it back): the section below shows what is held now.";
const CHOOSE = "Choose Approve or Reject.";
const NO_HASH = "Approving needs the hash of the definition you reviewed, which this form did not carry: reload the connection's page and approve from there.";

/**
 * Held for review, on a connection's page: approve or reject a held change (the form posts the
 * hash of the definition the admin saw), and the connection's settings for held and new tools.
 * Admins only; with htmx each answer is the section, without it the page (a redirect on success).
 */
export function reviewPages(deps: AppDeps): AnyElysia {
  const pagePath = (c: Pick<ConnectionMeta, "id">): string => `/connections/${encodeURIComponent(c.id)}`;
  return new Elysia({ name: "connection-review-pages" })
    .use(withDeps(deps))
    .get(
      "/connections/:id/review",
      async ({ request, principal, connection }) => {
        if (!isHtmx(request)) return redirect(request, `${pagePath(connection)}#review`);
        return section(deps, principal, connection);
      },
      { admin: true, connection: true },
    )
    .post(
      "/connections/:id/review",
      async ({ request, principal, connection }) => {
        const form = await readForm(request);
        const decision = form.decision;
        if (decision !== "approve" && decision !== "reject") return refuse(deps, request, principal, connection, 422, CHOOSE);
        if (decision === "approve" && !/^[0-9a-f]{64}$/.test(form.hash ?? "")) return refuse(deps, request, principal, connection, 422, NO_HASH);
        const item = await findHeld(deps.database, principal.workspaceId, connection.id, form.item ?? "");
        if (!item) return refuse(deps, request, principal, connection, 409, NOT_HELD);
        const actor = actorOf(principal);
        const result =
          decision === "approve"
            ? await approveChange(deps, actor, principal.workspaceId, connection.id, item.kind, item.name, form.hash ?? "")
            : await rejectChange(deps, actor, principal.workspaceId, connection.id, item.kind, item.name);
        if (!result.ok) {
          if ("notFound" in result) return refuse(deps, request, principal, connection, 409, NOT_HELD);
          return refuse(deps, request, principal, connection, 409, result.error);
        }
        deps.log.info(`held change ${decision === "approve" ? "approved" : "rejected"}`, { connectionId: connection.id, workspaceId: principal.workspaceId, kind: item.kind });
        if (!isHtmx(request)) return redirect(request, `${withFlash(pagePath(connection), decision === "approve" ? "approved" : "rejected")}#review`);
        const text = decision === "approve" ? `Approved ${item.name}: clients see its new definition now.` : `Rejected ${item.name}: it is turned off, and clients never see the change.`;
        return section(deps, principal, connection, { notice: { text } });
      },
      { admin: true, connection: true },
    )
    .post(
      "/connections/:id/review/settings",
      async ({ request, principal, connection }) => {
        const form = await readForm(request);
        const heldMode = HELD_MODES.find((mode): mode is HeldMode => mode === form.heldMode);
        if (!heldMode) return refuse(deps, request, principal, connection, 422, "Choose what happens when a tool changes upstream: hide it, or keep serving the approved version.");
        // An unticked checkbox is not posted at all: absent means off.
        const exposeNewTools = form.exposeNewTools === "true";
        const result = await setReviewSettings(deps, actorOf(principal), principal.workspaceId, connection.id, { heldMode, exposeNewTools });
        if (!result.ok && "invalid" in result) return refuse(deps, request, principal, connection, 422, result.invalid);
        if (!result.ok) throw new HttpError(404, "There is no such connection in this workspace.");
        if (!isHtmx(request)) return redirect(request, `${withFlash(pagePath(connection), "saved")}#review`);
        const fresh = await loadOwnConnection(deps, principal, connection.id);
        return section(deps, principal, fresh, { notice: { text: "Review settings saved." } });
      },
      { admin: true, connection: true },
    );
}

async function section(deps: AppDeps, principal: Principal, connection: ConnectionMeta, extra: Pick<ReviewProps, "notice"> = {}, status = 200): Promise<Response> {
  const model = await loadReview(deps, principal.workspaceId, connection);
  return htmlResponse(<ReviewSection connection={connection} {...model} now={Date.now()} {...extra} />, status);
}

/**
 * A refused decision says why, in the section (htmx swaps 4xx) or, without JavaScript, on a small
 * page with the way back: the admin then sees what is held now, not what they saw.
 */
async function refuse(deps: AppDeps, request: Request, principal: Principal, connection: ConnectionMeta, status: number, text: string): Promise<Response> {
  if (isHtmx(request)) return section(deps, principal, connection, { notice: { text, error: true } }, status);
  throw new HttpError(status, text);
}
