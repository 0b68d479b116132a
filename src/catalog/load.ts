import { readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import type { Logger } from "../log.ts";
import { CONNECTION_NAME } from "../connections/names.ts";
import { hasUrlKeyPlaceholder } from "../connections/secret.ts";
import type { AuthKindId } from "../connections/auth-kinds/list.ts";
import { AUTH_KINDS, authKindFor, isAuthKind, type AnyAuthKind } from "../connections/auth-kinds/registry.ts";
import { BUILT_IN_CATALOG, type CatalogEntry } from "./catalog.ts";

export const CATALOG_FILE = "catalog.json";

const text = (max: number) => z.string().trim().min(1).max(max);
const httpUrl = z
  .string()
  .trim()
  .refine((value) => /^https?:\/\//.test(value) && URL.canParse(value), "must be an http(s) URL");

/** One sign-in per auth kind the catalog can offer: the kind's own fields, and optionally a URL of its own. */
function signInSchema(kind: AnyAuthKind, fields: z.ZodRawShape): SignInSchema {
  return z.object({ kind: z.literal(kind.id), ...fields, url: httpUrl.optional() }).strict() as unknown as SignInSchema;
}
type SignInSchema = z.ZodObject<{ kind: z.ZodLiteral<AuthKindId>; url: z.ZodOptional<typeof httpUrl> }>;
const signInSchemas = AUTH_KINDS.flatMap((kind) => (kind.catalogSignIn ? [signInSchema(kind, kind.catalogSignIn)] : []));
const signIn = z.discriminatedUnion("kind", signInSchemas as [SignInSchema, ...SignInSchema[]]);

const entrySchema = z
  .object({
    id: z.string().regex(CONNECTION_NAME, "must be 1–32 lowercase letters, digits and dashes"),
    name: text(80),
    description: text(300),
    url: httpUrl,
    docs: httpUrl,
    signIn: z.array(signIn).min(1).max(4),
  })
  .strict()
  .superRefine((entry, ctx) => {
    for (const [i, option] of entry.signIn.entries()) {
      const url = option.url ?? entry.url;
      const keyInUrl = isAuthKind(option.kind) && authKindFor(option.kind).keyInUrl === true;
      if (keyInUrl && !hasUrlKeyPlaceholder(url)) {
        ctx.addIssue({ code: "custom", path: ["signIn", i], message: "a \"url\" sign-in needs {key} in its URL, where the key goes" });
      }
      if (!keyInUrl && hasUrlKeyPlaceholder(url)) {
        ctx.addIssue({ code: "custom", path: ["signIn", i], message: "{key} in the URL only makes sense with a \"url\" sign-in" });
      }
    }
  });

/**
 * The built-in catalog plus DATA_DIR/catalog.json, if there is one: `{ "entries": [ … ] }` in the
 * shape of CatalogEntry. A file entry with a built-in id replaces it. A bad entry is reported in the
 * log (which entry, which field, why) and skipped; the others still load.
 */
export function loadCatalog(dataDir: string, log: Logger): CatalogEntry[] {
  const path = join(dataDir, CATALOG_FILE);
  let raw: string;
  try {
    raw = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") log.warn("catalog file unreadable; using the built-in catalog", { path, error });
    return BUILT_IN_CATALOG;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    log.warn("catalog file is not valid JSON; using the built-in catalog", { path, error: (error as Error).message });
    return BUILT_IN_CATALOG;
  }
  const list = Array.isArray(parsed) ? parsed : (parsed as { entries?: unknown } | null)?.entries;
  if (!Array.isArray(list)) {
    log.warn('catalog file must be { "entries": [ … ] }; using the built-in catalog', { path });
    return BUILT_IN_CATALOG;
  }
  const entries = new Map(BUILT_IN_CATALOG.map((entry) => [entry.id, entry]));
  const seen = new Set<string>();
  for (const [index, item] of list.entries()) {
    const result = entrySchema.safeParse(item);
    const label = typeof (item as { id?: unknown } | null)?.id === "string" ? `"${(item as { id: string }).id}"` : `#${index + 1}`;
    if (!result.success) {
      const problems = result.error.issues.map((issue) => `${issue.path.join(".") || "entry"}: ${issue.message}`);
      log.warn(`catalog entry ${label} skipped`, { path, problems });
      continue;
    }
    if (seen.has(result.data.id)) {
      log.warn(`catalog entry ${label} skipped: the file lists this id twice`, { path });
      continue;
    }
    seen.add(result.data.id);
    entries.set(result.data.id, result.data as CatalogEntry);
  }
  log.info("catalog loaded", { path, entries: entries.size, fromFile: seen.size });
  return [...entries.values()].sort((a, b) => a.name.localeCompare(b.name));
}
