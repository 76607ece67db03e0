// Migrations in order, bundled in code (not read from a folder) so the compiled package and
// the TypeScript sources migrate identically. Names sort lexically; never rename or edit one
// that has shipped: add a new one.
import type { Migration } from 'kysely';
import * as initial from './0001-initial.js';
import * as moreFactors from './0002-more-factors.js';
import * as securityEvents from './0003-security-events.js';
import * as recoveryAndDevices from './0004-recovery-and-devices.js';
import * as revokedSessionsFeed from './0005-revoked-sessions-feed.js';
import * as emailVerification from './0008-email-verification.js';

export const migrations: Record<string, Migration> = {
  '0001-initial': initial,
  '0002-more-factors': moreFactors,
  '0003-security-events': securityEvents,
  '0004-recovery-and-devices': recoveryAndDevices,
  '0005-revoked-sessions-feed': revokedSessionsFeed,
  '0008-email-verification': emailVerification,
};
