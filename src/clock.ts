/**
 * The time source for code with deadlines (token refresh, ID-JAG renewal, SSO revalidation,
 * probes): milliseconds since the epoch. A serving gateway uses the system clock; tests pass one
 * they can move forward, so a deadline passes without waiting for it in real time.
 */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();
