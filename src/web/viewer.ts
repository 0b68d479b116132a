import { isAdmin, type Principal } from "../accounts/principal.ts";

/** What a page needs to know about who is looking: admins get the controls that change things. */
export type Viewer = { email: string; role: string; admin: boolean };

export function toViewer(principal: Principal): Viewer {
  return { email: principal.email, role: principal.role, admin: isAdmin(principal) };
}
