import type { AuthKindModule } from "./types.ts";

export type NoneInput = { kind: "none" };

/** No credential: a public server, or one the network protects. */
export const none: AuthKindModule<NoneInput> = {
  id: "none",
  label: "None",
  phrase: "none",
  pasted: true,
  formFields: null,
  parseForm: () => ({ kind: "none" }),
  parseJson: () => ({ kind: "none" }),
  check: () => ({}),
  toSecret: () => null,
  secretValues: () => [],
  catalogSignIn: {},
};
