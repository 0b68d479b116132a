import { Elysia, type AnyElysia } from "elysia";
import type { AppDeps } from "../deps.ts";
import { accountRoutes } from "./account-routes.tsx";
import { scimRoutes } from "../scim/routes.ts";
import { settingsRoutes } from "./settings-routes.tsx";
import { ssoRoutes } from "../sso/routes.tsx";

/** Managed access for teams: workspace settings, SSO sign-in and linking, SCIM provisioning, mounted together. */
export function managedAccessRoutes(deps: AppDeps): AnyElysia {
  return new Elysia({ name: "managed-access" }).use(settingsRoutes(deps)).use(accountRoutes(deps)).use(ssoRoutes(deps)).use(scimRoutes(deps));
}
