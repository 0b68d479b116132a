import type { ToolRow } from "./types.ts";

/**
 * Finding tools among hundreds: a substring of the name, title or description, and on/off. The
 * same filter serves the connection page (GET query) and the pick step (posted with the ticks).
 */

/** "changed": new or changed at a re-sync and not turned on or off since (tools.changed_at). */
export type ToolShow = "all" | "on" | "off" | "changed";
export type ToolFilter = { q: string; show: ToolShow; page: number };

/** Tools shown per page of a connection's list: keeps a 500-tool page small. */
export const TOOLS_PER_PAGE = 25;
const MAX_QUERY = 200;

/** From a query string or a posted form; anything odd falls back to "everything, page 1". */
export function readToolFilter(values: { get(name: string): string | null }): ToolFilter {
  const show = values.get("show");
  const page = Number(values.get("page") ?? "1");
  return {
    q: (values.get("q") ?? "").trim().slice(0, MAX_QUERY),
    show: show === "on" || show === "off" || show === "changed" ? show : "all",
    page: Number.isInteger(page) && page >= 1 ? page : 1,
  };
}

export function isFiltered(filter: ToolFilter): boolean {
  return filter.q !== "" || filter.show !== "all";
}

/** Case-insensitive, on the name agents see, the upstream name, the title and both descriptions (upstream's, admin's). */
export function matchesTool(tool: Pick<ToolRow, "name" | "exposedName" | "title" | "description"> & { override?: ToolRow["override"] }, enabled: boolean, filter: Pick<ToolFilter, "q" | "show">, changed = false): boolean {
  if (filter.show === "changed" && !changed) return false;
  if (filter.show === "on" && !enabled) return false;
  if (filter.show === "off" && enabled) return false;
  if (filter.q === "") return true;
  const needle = filter.q.toLowerCase();
  return [tool.exposedName, tool.name, tool.title ?? "", tool.description ?? "", tool.override?.description ?? ""].some((text) => text.toLowerCase().includes(needle));
}

export type ToolPage = { tools: ToolRow[]; matching: number; page: number; pages: number; first: number };

/** The filtered tools, cut to one page (a page past the end shows the last one). */
export function pageOfTools(tools: ToolRow[], filter: ToolFilter, changed: ReadonlySet<string> = new Set()): ToolPage {
  const matching = tools.filter((tool) => matchesTool(tool, tool.enabled, filter, changed.has(tool.name)));
  const pages = Math.max(1, Math.ceil(matching.length / TOOLS_PER_PAGE));
  const page = Math.min(filter.page, pages);
  const first = (page - 1) * TOOLS_PER_PAGE;
  return { tools: matching.slice(first, first + TOOLS_PER_PAGE), matching: matching.length, page, pages, first };
}

/** The query string that keeps a filter across a link or a redirect ("" when unfiltered). */
export function filterQuery(filter: ToolFilter, page = filter.page): string {
  const params = new URLSearchParams();
  if (filter.q !== "") params.set("q", filter.q);
  if (filter.show !== "all") params.set("show", filter.show);
  if (page > 1) params.set("page", String(page));
  const query = params.toString();
  return query === "" ? "" : `?${query}`;
}
