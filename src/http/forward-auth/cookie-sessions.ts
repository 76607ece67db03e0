// The forward-auth cookie: an opaque 256-bit token per protected domain, stored hashed, standing
// for a Twofold session — so it lives and dies with that session (idle and absolute limits,
// sign-out, "sign out everywhere", revocation by an admin or a password change). A cookie set
// for one domain is refused on a host of another (its row names its domain).
//
// Every request of every protected app asks about it, so the session read is cached in process
// for a few seconds; the revoked-session denylist (ctx.revokedSessions, fed by pub/sub across
// instances) is checked on every decision, so a sign-out is honoured by the very next request.
import type { FastifyReply } from 'fastify';
import { stringifySetCookie } from 'cookie';
import { sha256Base64url } from '../../core/crypto/digest.js';
import { generateRandomBase64url } from '../../core/crypto/random.js';
import { isAtLeastAal2 } from '../../core/tokens/authentication-methods.js';
import type { ForwardAuthDomain } from '../../config/forward-auth.js';
import { TwofoldError } from '../../errors.js';
import { enforceSessionLimits } from '../../flows/sessions/authenticate.js';
import type { FlowContext } from '../../flows/shared/context.js';
import type { SessionRow, UserRow } from '../../store/database.js';
import { deleteForwardAuthSession, findForwardAuthSession, insertForwardAuthSession } from '../../store/repositories/forward-auth-sessions.js';
import { findSessionWithUser, touchSession } from '../../store/repositories/sessions.js';
import type { ForwardAuthIdentity } from '../../forward-auth/decide.js';

export const forwardAuthCookieName = '__Secure-twofold-fa';
const tokenShape = /^[A-Za-z0-9_-]{43}$/;
const cacheMs = 5_000;
const cacheLimit = 50_000;
const activityWriteIntervalMs = 60_000;

export type CookieLookup = { ok: true; identity: ForwardAuthIdentity } | { ok: false; reason: 'malformed' | 'unknown' | 'other_domain' | 'ended' };

interface Cached {
  domain: string;
  identity: ForwardAuthIdentity;
  until: number;
}

export function identityOf(session: SessionRow, user: UserRow): ForwardAuthIdentity {
  const authTime = Math.floor((session.auth_time ?? session.created_at) / 1000);
  return {
    userId: user.id,
    username: user.username,
    sessionId: session.id,
    acr: session.acr,
    amr: JSON.parse(session.amr) as string[],
    authTime,
    // auth_time moves with each second factor (sign-in or step-up); an aal1 session never proved one.
    secondFactorAt: session.auth_time !== null && isAtLeastAal2(session.acr) ? authTime : undefined,
  };
}

/**
 * The identity of a Twofold session that is still live — active, its user enabled, within its idle
 * and absolute limits, not on the revoked-session denylist — or undefined. A read counts as activity.
 */
export async function liveSessionIdentity(ctx: FlowContext, sessionId: string): Promise<ForwardAuthIdentity | undefined> {
  const found = await findSessionWithUser(ctx.db, sessionId);
  if (found === undefined || found.session.state !== 'active' || found.user.disabled_at !== null) return undefined;
  const now = ctx.now();
  if (ctx.revokedSessions.has(sessionId, now)) return undefined;
  try {
    await enforceSessionLimits(ctx, found.session, now);
  } catch (error) {
    if (error instanceof TwofoldError) return undefined;
    throw error;
  }
  if (now - found.session.last_active_at > activityWriteIntervalMs) await touchSession(ctx.db, found.session.id, now);
  return identityOf(found.session, found.user);
}

export interface CookieSessions {
  /** The identity the cookie stands for on a host of `domain`. */
  lookup(token: string, domain: string): Promise<CookieLookup>;
  /** A new cookie for the session on `domain`; its Set-Cookie is added to the reply. */
  issue(reply: FastifyReply, sessionId: string, domain: ForwardAuthDomain): Promise<void>;
  /** Forgets a cookie (its row and cached identity) and clears it in the browser. */
  forget(reply: FastifyReply, token: string | undefined, domain: ForwardAuthDomain): Promise<void>;
}

export function createCookieSessions(ctx: FlowContext): CookieSessions {
  const cache = new Map<string, Cached>();

  const readSession = async (tokenHash: string): Promise<{ domain: string; identity: ForwardAuthIdentity } | CookieLookup> => {
    const row = await findForwardAuthSession(ctx.db, tokenHash);
    if (row === undefined) return { ok: false, reason: 'unknown' };
    const identity = await liveSessionIdentity(ctx, row.session_id);
    return identity === undefined ? { ok: false, reason: 'ended' } : { domain: row.domain, identity };
  };

  return {
    async lookup(token, domain) {
      if (!tokenShape.test(token)) return { ok: false, reason: 'malformed' };
      const now = ctx.now();
      const tokenHash = sha256Base64url(token);
      let entry = cache.get(tokenHash);
      if (entry === undefined || entry.until <= now) {
        const read = await readSession(tokenHash);
        if ('ok' in read) {
          cache.delete(tokenHash);
          return read;
        }
        if (cache.size >= cacheLimit) cache.clear();
        entry = { ...read, until: now + cacheMs };
        cache.set(tokenHash, entry);
      }
      if (entry.domain !== domain) return { ok: false, reason: 'other_domain' };
      if (ctx.revokedSessions.has(entry.identity.sessionId, now)) {
        cache.delete(tokenHash);
        return { ok: false, reason: 'ended' };
      }
      return { ok: true, identity: entry.identity };
    },

    async issue(reply, sessionId, domain) {
      const token = generateRandomBase64url(32);
      await insertForwardAuthSession(ctx.db, { token_hash: sha256Base64url(token), session_id: sessionId, domain: domain.domain, created_at: ctx.now() });
      appendSetCookie(reply, stringifySetCookie({ name: forwardAuthCookieName, value: token, ...cookieAttributes(domain), maxAge: ctx.config.sessions.absoluteTimeoutSeconds }));
    },

    async forget(reply, token, domain) {
      if (token !== undefined && tokenShape.test(token)) {
        const tokenHash = sha256Base64url(token);
        cache.delete(tokenHash);
        await deleteForwardAuthSession(ctx.db, tokenHash);
      }
      appendSetCookie(reply, stringifySetCookie({ name: forwardAuthCookieName, value: '', ...cookieAttributes(domain), maxAge: 0, expires: new Date(0) }));
    },
  };
}

function cookieAttributes(domain: ForwardAuthDomain) {
  return { domain: domain.domain, path: '/', httpOnly: true, secure: true, sameSite: 'lax' } as const;
}

function appendSetCookie(reply: FastifyReply, line: string): void {
  const existing = reply.getHeader('set-cookie');
  const others = existing === undefined ? [] : Array.isArray(existing) ? existing.map(String) : [String(existing)];
  reply.removeHeader('set-cookie');
  reply.header('set-cookie', [...others.filter((other) => !other.startsWith(`${forwardAuthCookieName}=`)), line]);
}

/** The forward-auth cookie of a Cookie header, without parsing the rest (this runs on every request). */
export function forwardAuthCookieOf(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const start = header.indexOf(`${forwardAuthCookieName}=`);
  if (start === -1 || (start > 0 && header[start - 1] !== ' ' && header[start - 1] !== ';')) return undefined;
  const valueStart = start + forwardAuthCookieName.length + 1;
  const end = header.indexOf(';', valueStart);
  const value = header.slice(valueStart, end === -1 ? undefined : end).trim();
  return value === '' ? undefined : value;
}
