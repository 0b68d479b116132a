/** The `tool` label of a call that reached no exposed tool, or came after the cap on distinct pairs. */
export const OTHER_TOOL = "(other)";

/**
 * Bounds the `tool` label: a tool name comes from an upstream (or, for an unknown tool, from the
 * client), and every distinct value is a series Prometheus keeps. Only calls routed to an exposed
 * tool get its name; the first `cap` distinct (connection, tool) pairs keep theirs for the life of
 * the process, later ones are counted as `(other)`.
 */
export class ToolLabels {
  private readonly seen = new Set<string>();

  constructor(private readonly cap: number) {}

  label(connection: string, tool: string | null): string {
    if (tool === null) return OTHER_TOOL;
    const key = `${connection}\u0000${tool}`;
    if (this.seen.has(key)) return tool;
    if (this.seen.size >= this.cap) return OTHER_TOOL;
    this.seen.add(key);
    return tool;
  }
}
