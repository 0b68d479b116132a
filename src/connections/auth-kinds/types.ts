import type { z } from "zod";
import type { FieldErrors } from "../checks.ts";
import type { UpstreamSecret } from "../secret.ts";
import type { AuthKindId } from "./list.ts";

/**
 * The one interface every upstream auth kind implements (one module per kind, listed in
 * registry.ts). Everything that differs between kinds lives behind it: what the forms show, how
 * the form and the JSON API are read and checked, what gets sealed, how it travels upstream, and
 * what redaction must remove.
 */
export type AuthKindModule<I extends { kind: AuthKindId }, S extends UpstreamSecret = never> = {
  id: I["kind"];
  /** The Add server radio's label. */
  label: string;
  /** How "Choose an authentication: …" names it. */
  phrase: string;
  /** A credential a person pastes (Re-authorize offers these); OAuth and ID-JAG go through a provider. */
  pasted: boolean;
  /** The inputs the Add server and Re-authorize forms show while this kind is checked, or null for none. */
  formFields: FormSection | null;
  /** The dashboard's form fields, read into input (a missing field reads as ""). */
  parseForm(field: ReadField): I;
  /** The API's `auth` object (its kind already checked), read into input; a non-string field reads as "". */
  parseJson(field: ReadField): I;
  /** Field messages for input that cannot be used; empty when it can. */
  check(input: I): FieldErrors;
  /** What gets sealed in the credentials row, or null when nothing is stored yet. */
  toSecret(input: I): S | null;
  /** The values of a stored secret the upstream (or its authorization server) saw: redaction removes them. */
  secretValues(secret: S): string[];
  /** Headers that carry the secret upstream. Absent: none (OAuth and ID-JAG go through the SDK's auth provider). */
  headers?(secret: S): Record<string, string>;
  /** The URL actually requested, with the secret in it. Absent: the stored URL as it is. */
  requestUrl?(url: string, secret: S): string;
  /** Set when the kind's secret goes into the URL at `{key}`: the URL must have the placeholder, and no other kind's may. */
  keyInUrl?: true;
  /** The header name kept in the connection row (not a secret), if the kind has one. */
  storedHeader?(input: I): string | null;
  /** A per-member connection may be added without the admin's own credential: true when this input has none. */
  isEmpty?(input: I): boolean;
  /** A member's own pasted value as this kind's input, on a per-member connection; absent when the kind is not pasted by members. */
  memberInput?(value: string, connection: { authHeader: string | null }): I;
  /** The fields of a catalog sign-in of this kind (besides `kind` and `url`); absent when the catalog cannot offer it. */
  catalogSignIn?: z.ZodRawShape;
};

/** Reads one named field of a posted form or of the API's `auth` object, as a string. */
export type ReadField = (name: string) => string;

/** Text with inline code, as a hint shows it. */
export type HintText = readonly (string | { code: string })[];

export type FormInput = {
  /** The element id (a label's `for`). */
  id: string;
  /** The posted field name. */
  name: string;
  label: string;
  /** A secret input: type=password, and it always starts empty. */
  secret?: true;
  placeholder?: string;
  /** The value shown again after a 422 (only the header name: not a secret). */
  keep?: "header";
  /** The field its message is filed under (`name` if absent); null: the input has no message of its own. */
  errorField?: string | null;
  /** A hint under the input, referenced by `aria-describedby`. */
  hint?: { id: string; text: HintText };
};

export type FormSection = {
  /** The CSS class that shows the section only while its radio is checked (public/app.css). */
  className: string;
  /** A hint above the inputs. */
  intro?: HintText;
  inputs: readonly FormInput[];
};
