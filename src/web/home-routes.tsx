import { Elysia, type AnyElysia } from "elysia";
import type { AppDeps } from "../app.ts";
import { isSetupDone } from "../auth/accounts.ts";
import { findSessionPrincipal } from "../auth/guard.ts";
import { HomePage } from "../../views/home.tsx";
import { htmlResponse, redirect } from "./http.ts";

export function homeRoutes(deps: AppDeps): AnyElysia {
  return new Elysia({ name: "home" }).get("/", async ({ request }) => {
    if (!(await isSetupDone(deps.database))) return redirect(request, "/setup");
    const principal = await findSessionPrincipal(deps, request);
    if (!principal) return redirect(request, "/sign-in");
    return htmlResponse(<HomePage user={principal} mcpUrl={`${deps.config.baseUrl}/api/v1/mcp`} />);
  });
}
