import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { BrowserContext, Page } from "playwright-core";

/**
 * axe-core in the page under test. Evaluated through the DevTools protocol, which the page's CSP
 * (script-src 'self') does not govern, so the gateway's real headers stay on during the check.
 */
const source = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

export type AxeViolation = { id: string; impact: string | null; help: string; nodes: { target: string[] }[] };

/** The serious and critical violations on the page as it is now (none is the goal). */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(source);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(context: Document, options: object): Promise<{ violations: AxeViolation[] }> } }).axe;
    const result = await axe.run(document, { resultTypes: ["violations"] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) }));
  });
  return violations.filter((v) => v.impact === "serious" || v.impact === "critical");
}

/**
 * For a page opened with JavaScript off (axe cannot run there): the same HTML, served at the same
 * origin to a context with JavaScript on, its stylesheet included, so contrast is judged as shown.
 */
export async function seriousViolationsWithoutJs(page: Page, newContext: () => Promise<{ context: BrowserContext; page: Page }>): Promise<AxeViolation[]> {
  // Without its scripts, as the user saw it (htmx in the copy would poll, unauthenticated, and leave).
  const html = (await page.content()).replace(/<script\b[^>]*>[\s\S]*?<\/script>/gi, "");
  const origin = new URL(page.url()).origin;
  const { context, page: checker } = await newContext();
  try {
    await checker.route(`${origin}/__axe_snapshot__`, (route) => route.fulfill({ status: 200, contentType: "text/html; charset=utf-8", body: html }));
    await checker.goto(`${origin}/__axe_snapshot__`);
    return await seriousViolations(checker);
  } finally {
    await context.close();
  }
}

/** The same check, one line per serious or critical violation ("" when none): for messages in assertions. */
export async function seriousViolationLines(page: Page): Promise<string[]> {
  return (await seriousViolations(page)).map((v) => `${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`);
}
