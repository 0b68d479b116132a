import type { FieldErrors } from "../checks.ts";
import type { IdJagData } from "../secret.ts";
import { CONTROL } from "./checks.ts";
import type { AuthKindModule } from "./types.ts";

/** Enterprise-managed: each member's token comes from their SSO sign-in; the gateway's client at the server's AS. */
export type IdJagInput = { kind: "id-jag"; clientId: string; clientSecret: string };
type IdJagSecret = { kind: "id-jag"; data: IdJagData };

function checkIdJag(input: IdJagInput): FieldErrors {
  const errors: FieldErrors = {};
  if (!input.clientId.trim() || input.clientId.length > 512 || CONTROL.test(input.clientId)) errors.clientId = "Give the client ID the server's authorization server registered for the gateway.";
  if (!input.clientSecret.trim() || input.clientSecret.length > 4096 || CONTROL.test(input.clientSecret)) errors.clientSecret = "Give the client secret that goes with the client ID.";
  return errors;
}

/**
 * Enterprise-managed authorization (ID-JAG): the client is sealed with the issuer it is pinned to
 * when the connection is added (add-id-jag.ts), and each member's token travels through the SDK's
 * auth provider. The catalog does not offer it: it needs an admin's own client.
 */
export const idJag: AuthKindModule<IdJagInput, IdJagSecret> = {
  id: "id-jag",
  label: "Enterprise-managed (ID-JAG)",
  phrase: "enterprise-managed (ID-JAG)",
  pasted: false,
  formFields: {
    className: "auth-idjag",
    intro: [
      "Each member's calls use a token for that member, obtained from your identity provider without a consent screen. Needs per-member sharing, members who sign in through SSO, and the client the server's authorization server registered for this gateway:",
    ],
    inputs: [
      { id: "auth-idjag-client-id", name: "idjagClientId", label: "Client ID", errorField: "clientId" },
      { id: "auth-idjag-client-secret", name: "idjagClientSecret", label: "Client secret", secret: true, errorField: "clientSecret" },
    ],
  },
  // The dashboard names ID-JAG's client apart from OAuth's; the API calls both clientId/clientSecret.
  parseForm: (field) => ({ kind: "id-jag", clientId: field("idjagClientId").trim(), clientSecret: field("idjagClientSecret") }),
  parseJson: (field) => ({ kind: "id-jag", clientId: field("clientId").trim(), clientSecret: field("clientSecret") }),
  check: checkIdJag,
  // Sealed by add-id-jag.ts, once the issuer is known.
  toSecret: () => null,
  secretValues: (secret) => [secret.data.accessToken, secret.data.clientSecret].filter((v): v is string => typeof v === "string"),
};
