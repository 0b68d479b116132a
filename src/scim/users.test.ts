import { describe, expect, test } from "bun:test";
import { USER_SCHEMA } from "./resource.ts";
import { toFields, toScimResource, type ScimUser } from "./users.ts";

const base: ScimUser = {
  userId: "u-1",
  email: "ada@example.com",
  name: "Ada Lovelace",
  role: "member",
  createdAt: Date.parse("2026-01-01T00:00:00Z"),
  disabledAt: null,
  userName: null,
  externalId: null,
  givenName: null,
  familyName: null,
  updatedAt: null,
};

describe("a member as a SCIM User, and back to the fields a PATCH starts from", () => {
  const cases: [string, Partial<ScimUser>, Record<string, unknown>, Record<string, unknown>][] = [
    [
      "a member the directory never touched: userName is the email, no externalId",
      {},
      { userName: "ada@example.com", active: true, name: { formatted: "Ada Lovelace" }, meta: { lastModified: "2026-01-01T00:00:00.000Z" } },
      { userName: "ada@example.com", externalId: null, displayName: "Ada Lovelace", active: true },
    ],
    [
      "a provisioned member keeps the directory's names",
      { userName: "ada", externalId: "00u1", givenName: "Ada", familyName: "Lovelace", updatedAt: Date.parse("2026-02-01T00:00:00Z") },
      { userName: "ada", externalId: "00u1", name: { formatted: "Ada Lovelace", givenName: "Ada", familyName: "Lovelace" }, meta: { lastModified: "2026-02-01T00:00:00.000Z" } },
      { userName: "ada", externalId: "00u1", givenName: "Ada", familyName: "Lovelace" },
    ],
    ["a deactivated member is not active", { disabledAt: Date.parse("2026-03-01T00:00:00Z") }, { active: false }, { active: false }],
  ];
  test.each(cases)("%s", (_, fields, resource, back) => {
    const user = { ...base, ...fields };
    const scim = toScimResource(user, "https://gw.example.com");
    expect(scim).toMatchObject({
      schemas: [USER_SCHEMA],
      id: "u-1",
      emails: [{ value: "ada@example.com", type: "work", primary: true }],
      ...resource,
    });
    expect(scim.meta).toMatchObject({ resourceType: "User", created: "2026-01-01T00:00:00.000Z", location: "https://gw.example.com/scim/v2/Users/u-1" });
    if (!user.externalId) expect(scim).not.toHaveProperty("externalId");
    expect(toFields(user)).toMatchObject({ email: "ada@example.com", ...back });
  });
});
