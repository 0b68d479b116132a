import { describe, expect, test } from "bun:test";
import { applyPatch, parseFilter, parseUserResource, PATCH_SCHEMA, USER_SCHEMA, type Parsed, type ScimFilter, type ScimUserFields } from "./resource.ts";

const ada: ScimUserFields = { userName: "ada@example.com", email: "ada@example.com", externalId: "00u1", givenName: "Ada", familyName: "Lovelace", displayName: "Ada Lovelace", active: true };
const patch = (...Operations: unknown[]): unknown => ({ schemas: [PATCH_SCHEMA], Operations });

describe("SCIM filters: the one form directories send", () => {
  const cases: [string | null, Parsed<ScimFilter | null>][] = [
    [null, { ok: true, value: null }],
    ["  ", { ok: true, value: null }],
    ['userName eq "ada@example.com"', { ok: true, value: { attribute: "userName", value: "ada@example.com" } }],
    ['USERNAME EQ "ada@example.com"', { ok: true, value: { attribute: "userName", value: "ada@example.com" } }],
    ['externalId eq "00u1"', { ok: true, value: { attribute: "externalId", value: "00u1" } }],
    ['emails.value eq "ada@example.com"', { ok: true, value: { attribute: "email", value: "ada@example.com" } }],
    ['emails eq "ada@example.com"', { ok: true, value: { attribute: "email", value: "ada@example.com" } }],
    ['id eq "u-1"', { ok: true, value: { attribute: "id", value: "u-1" } }],
    [`${USER_SCHEMA}:userName eq "ada"`, { ok: true, value: { attribute: "userName", value: "ada" } }],
    ['userName eq "a\\"b"', { ok: true, value: { attribute: "userName", value: 'a"b' } }],
    ['userName sw "ada"', { ok: false, fault: { status: 400, scimType: "invalidFilter", detail: 'Only filters of the form attribute eq "value" are supported.' } }],
    ['userName eq "a" and active eq true', { ok: false, fault: { status: 400, scimType: "invalidFilter", detail: 'Only filters of the form attribute eq "value" are supported.' } }],
    ['displayName eq "Ada"', { ok: false, fault: { status: 400, scimType: "invalidFilter", detail: "Filtering on displayName is not supported; use userName, externalId or emails.value." } }],
  ];
  test.each(cases)("%p", (raw, expected) => {
    expect(parseFilter(raw)).toEqual(expected);
  });
});

describe("SCIM users from a POST or PUT body", () => {
  const cases: [string, unknown, Partial<ScimUserFields> | { fault: string }][] = [
    ["userName as the email", { userName: "Ada@Example.com" }, { userName: "Ada@Example.com", email: "ada@example.com", active: true }],
    ["the primary email wins", { userName: "ada", emails: [{ value: "w@example.com", type: "work" }, { value: "p@example.com", primary: "True" }] }, { email: "p@example.com" }],
    ["else the work email", { userName: "ada", emails: [{ value: "h@example.com", type: "home" }, { value: "w@example.com", type: "work" }] }, { email: "w@example.com" }],
    ["else the first", { userName: "ada", emails: [{ value: "h@example.com", type: "home" }] }, { email: "h@example.com" }],
    ["names, and the formatted name as display name", { userName: "ada@example.com", name: { givenName: "Ada", familyName: "Lovelace", formatted: "A. L." } }, { givenName: "Ada", familyName: "Lovelace", displayName: "A. L." }],
    ["Entra's string booleans", { userName: "ada@example.com", active: "False" }, { active: false }],
    ["not an object", "ada", { fault: "invalidSyntax" }],
    ["no userName", { emails: [{ value: "a@example.com" }] }, { fault: "invalidValue" }],
    ["no email anywhere", { userName: "ada" }, { fault: "invalidValue" }],
    ["active not a boolean", { userName: "ada@example.com", active: "yes" }, { fault: "invalidValue" }],
  ];
  test.each(cases)("%s", (_, body, expected) => {
    const parsed = parseUserResource(body);
    if ("fault" in expected) expect(parsed).toMatchObject({ ok: false, fault: { status: 400, scimType: expected.fault } });
    else expect(parsed).toMatchObject({ ok: true, value: expected });
  });
});

describe("SCIM PATCH, the way Okta and Entra send it", () => {
  const cases: [string, unknown, Partial<ScimUserFields> | { fault: string }][] = [
    ["Okta deactivates", patch({ op: "replace", value: { active: false } }), { active: false }],
    ["Entra deactivates by path, as a string", patch({ op: "Replace", path: "active", value: "False" }), { active: false }],
    ["a new userName", patch({ op: "replace", path: "userName", value: "ada.l@example.com" }), { userName: "ada.l@example.com", email: "ada@example.com" }],
    ["the work email by filter path", patch({ op: "replace", path: 'emails[type eq "work"].value', value: "new@example.com" }), { email: "new@example.com" }],
    ["emails as an array", patch({ op: "add", path: "emails", value: [{ value: "arr@example.com", primary: true }] }), { email: "arr@example.com" }],
    ["removing emails keeps the email", patch({ op: "remove", path: "emails" }), { email: "ada@example.com" }],
    ["names by dotted path", patch({ op: "replace", path: "name.givenName", value: "Augusta" }, { op: "replace", path: "name.familyName", value: "King" }), { givenName: "Augusta", familyName: "King" }],
    ["the name object", patch({ op: "replace", path: "name", value: { givenName: "A", familyName: "K", formatted: "A K" } }), { givenName: "A", familyName: "K", displayName: "A K" }],
    ["with the schema's URN in the path", patch({ op: "replace", path: `${USER_SCHEMA}:displayName`, value: "Countess" }), { displayName: "Countess" }],
    ["removing externalId", patch({ op: "remove", path: "externalId" }), { externalId: null }],
    ["attributes the gateway does not keep are ignored", patch({ op: "replace", path: "title", value: "Analyst" }), ada],
    ["no Operations", { schemas: [PATCH_SCHEMA] }, { fault: "invalidSyntax" }],
    ["an operation that is not an object", patch("replace"), { fault: "invalidSyntax" }],
    ["an unknown op", patch({ op: "move", path: "active", value: true }), { fault: "invalidSyntax" }],
    ["remove without a path", patch({ op: "remove" }), { fault: "noTarget" }],
    ["no path and a value that is not an object", patch({ op: "replace", value: true }), { fault: "invalidValue" }],
    ["an empty userName", patch({ op: "replace", path: "userName", value: " " }), { fault: "invalidValue" }],
    ["active not a boolean", patch({ op: "replace", path: "active", value: "maybe" }), { fault: "invalidValue" }],
  ];
  test.each(cases)("%s", (_, body, expected) => {
    const patched = applyPatch(ada, body);
    if ("fault" in expected) expect(patched).toMatchObject({ ok: false, fault: { status: 400, scimType: expected.fault } });
    else expect(patched).toEqual({ ok: true, value: { ...ada, ...expected } });
  });
});
