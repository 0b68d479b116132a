/** Control characters never belong in a credential: they would break or smuggle a header. */
export const CONTROL = /\p{Cc}/u;

/** An HTTP header name (RFC 9110 token), at most 64 characters. */
export const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/;

/** A token or key pasted whole: no control characters, no spaces inside it. */
export function isPastable(value: string): boolean {
  return !CONTROL.test(value) && !/\s/.test(value.trim());
}
