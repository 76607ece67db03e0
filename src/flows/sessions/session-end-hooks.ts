// What else must happen when Twofold sessions end, registered by parts the flows do not import
// (the OpenID Provider revokes the grants made in those sessions and tells the apps). The flows
// run the hooks once the revocation is committed (announceRevokedSessions), on the instance that
// revoked — never again on the others that hear of it — and a hook's failure is logged, never
// undoes or fails the sign-out.
import type { SessionEndHooks } from '../shared/context.js';

export function createSessionEndHooks(onError: (error: unknown) => void): SessionEndHooks {
  const hooks: Array<(sessionIds: readonly string[]) => Promise<void>> = [];
  return {
    add(hook) {
      hooks.push(hook);
    },
    async run(sessionIds) {
      if (sessionIds.length === 0) return;
      for (const hook of hooks) {
        try {
          await hook(sessionIds);
        } catch (error) {
          onError(error);
        }
      }
    },
  };
}
