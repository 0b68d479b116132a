import { expect, test } from "bun:test";
import { OTHER_TOOL, ToolLabels } from "./tool-labels.ts";

test("tool labels: a tool that is not exposed is (other); past the cap, new (connection, tool) pairs are (other) and earlier ones keep their names", () => {
  const labels = new ToolLabels(2);
  expect(labels.label("github", null)).toBe(OTHER_TOOL);
  expect(labels.label("github", "create_issue")).toBe("create_issue");
  expect(labels.label("linear", "create_issue")).toBe("create_issue");
  expect(labels.label("linear", "search")).toBe(OTHER_TOOL);
  expect(labels.label("github", "create_issue")).toBe("create_issue");
});
