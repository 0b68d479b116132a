/** A form's or an API body's problems, by field: what a 422 re-renders beside each input. */
export type FieldErrors = Record<string, string>;

/** A connection's own call timeout: empty means the gateway's default. */
export function checkCallTimeout(value: number | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  return Number.isInteger(value) && value >= 1000 && value <= 3_600_000 ? null : "Use a whole number of milliseconds from 1000 to 3600000.";
}
