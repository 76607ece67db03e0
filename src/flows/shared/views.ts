// What clients may see of stored rows. Built field by field: a new column never leaks into an
// API response by accident, and secrets (hashes, ciphertexts) have no way out (FL-09).
import { maskEmail, maskPhone } from '../../core/identity/mask.js';
import type { FactorRow, SessionRow, UserRow } from '../../store/database.js';
import type { FactorViewRow } from '../../store/repositories/account-overview.js';

export interface UserView {
  id: string;
  username: string;
  email: string | null;
  /** Whether the owner of `email` proved it; until then it receives nothing but a verification mail. */
  email_verified: boolean;
  phone: string | null;
  created_at: string;
}

export interface FactorView {
  id: string;
  type: string;
  label: string | null;
  /** The phone or address of an SMS / e-mail factor, masked. */
  destination: string | null;
  status: string;
  created_at: string;
  activated_at: string | null;
  last_used_at: string | null;
}

export interface FactorSummary {
  id: string;
  type: string;
  label: string | null;
  destination: string | null;
}

export interface SessionView {
  id: string;
  created_at: string;
  auth_time: string | null;
  acr: string;
  amr: string[];
  last_active_at: string;
  idle_expires_at: string;
  expires_at: string;
  ip: string | null;
  user_agent: string | null;
}

// Timestamps repeat: every request of a session shows the same created_at, auth_time and
// expires_at. Formatting one costs a Date and its ISO string (about 1 µs); a lookup far less.
// Bounded by clearing: the cache is a shortcut, never a store.
const formattedTimes = new Map<number, string>();
const maxFormattedTimes = 10_000;

export function isoTime(ms: number): string {
  let text = formattedTimes.get(ms);
  if (text === undefined) {
    text = new Date(ms).toISOString();
    if (formattedTimes.size >= maxFormattedTimes) formattedTimes.clear();
    formattedTimes.set(ms, text);
  }
  return text;
}
const isoTimeOrNull = (ms: number | null): string | null => (ms === null ? null : isoTime(ms));

export function toUserView(user: Pick<UserRow, 'id' | 'username' | 'email' | 'email_verified_at' | 'phone' | 'created_at'>): UserView {
  return { id: user.id, username: user.username, email: user.email, email_verified: user.email !== null && user.email_verified_at !== null, phone: user.phone, created_at: isoTime(user.created_at) };
}

export function maskedDestination(factor: Pick<FactorRow, 'type' | 'destination'>): string {
  if (factor.destination === null) return '';
  return factor.type === 'email' ? maskEmail(factor.destination) : maskPhone(factor.destination);
}

const destinationOf = (factor: Pick<FactorRow, 'type' | 'destination'>): string | null => (factor.destination === null ? null : maskedDestination(factor));

export function toFactorView(factor: FactorViewRow): FactorView {
  return {
    id: factor.id,
    type: factor.type,
    label: factor.label,
    destination: destinationOf(factor),
    status: factor.status,
    created_at: isoTime(factor.created_at),
    activated_at: isoTimeOrNull(factor.activated_at),
    last_used_at: isoTimeOrNull(factor.last_used_at),
  };
}

export function toFactorSummary(factor: FactorRow): FactorSummary {
  return { id: factor.id, type: factor.type, label: factor.label, destination: destinationOf(factor) };
}

export function toSessionView(session: SessionRow, idleTimeoutSeconds: number): SessionView {
  return {
    id: session.id,
    created_at: isoTime(session.created_at),
    auth_time: isoTimeOrNull(session.auth_time),
    acr: session.acr,
    amr: JSON.parse(session.amr) as string[],
    last_active_at: isoTime(session.last_active_at),
    idle_expires_at: isoTime(Math.min(session.last_active_at + idleTimeoutSeconds * 1000, session.expires_at)),
    expires_at: isoTime(session.expires_at),
    ip: session.ip,
    user_agent: session.user_agent,
  };
}
