/**
 * One use of an SSO identity's refresh token at a time, in this process. Refresh tokens rotate: the
 * IdP takes a second use of a spent one as theft and revokes the member's grant, so revalidation and
 * ID-JAG exchanges (for any number of connections) queue here and each re-reads the stored token.
 * Replicas are not covered; see the note on OAuthManager.
 */
const queues = new Map<string, Promise<unknown>>();

export function withIdentityLock<T>(identityId: string, work: () => Promise<T>): Promise<T> {
  const previous = queues.get(identityId) ?? Promise.resolve();
  const run = previous.then(work, work);
  const settled = run.catch(() => undefined);
  queues.set(identityId, settled);
  void settled.then(() => {
    if (queues.get(identityId) === settled) queues.delete(identityId);
  });
  return run;
}
