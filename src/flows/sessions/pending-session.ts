// Starting a pending session: what both registration and login end with. The session is bound
// to one mfa_token (its jti) and dies with it after mfaTokenTtlSeconds, or as soon as the user's
// credentials change (it keeps the credentials_changed_at its password step saw, RC-03).
import { generateId } from '../../core/crypto/random.js';
import { storableText } from '../../core/text/unsafe-characters.js';
import type { Executor } from '../../store/database.js';
import { insertSession } from '../../store/repositories/sessions.js';
import { maxStoredIpLength, maxStoredUserAgentLength, type FlowContext, type RequestMeta } from '../shared/context.js';
import { mintMfaToken } from './tokens.js';

export interface PendingSessionStart {
  sessionId: string;
  jti: string;
  createdAt: number;
}

export async function insertPendingSession(
  ctx: FlowContext,
  db: Executor,
  user: { id: string; credentials_changed_at: number | null },
  meta: RequestMeta,
): Promise<PendingSessionStart> {
  const createdAt = ctx.now();
  const start = { sessionId: generateId('ses'), jti: generateId('jti'), createdAt };
  await insertSession(db, {
    id: start.sessionId,
    user_id: user.id,
    state: 'pending',
    mfa_jti: start.jti,
    amr: JSON.stringify(['pwd']),
    acr: 'aal1',
    auth_time: null,
    client_id: ctx.config.clientId,
    ip: storableText(meta.ip, maxStoredIpLength),
    user_agent: storableText(meta.userAgent, maxStoredUserAgentLength),
    created_at: createdAt,
    expires_at: createdAt + ctx.config.tokens.mfaTokenTtlSeconds * 1000,
    last_active_at: createdAt,
    revoked_at: null,
    revoke_reason: null,
    credentials_changed_at: user.credentials_changed_at,
  });
  return start;
}

export function mintMfaTokenFor(ctx: FlowContext, userId: string, start: PendingSessionStart): Promise<string> {
  return mintMfaToken(ctx, { userId, sessionId: start.sessionId, jti: start.jti, issuedAtMs: start.createdAt });
}
