// Migrations in order, bundled in code (not read from a folder) so the compiled package and
// the TypeScript sources migrate identically. Names sort lexically; never rename or edit one
// that has shipped: add a new one.
import type { Migration } from 'kysely';
import * as initial from './0001-initial.js';
import * as moreFactors from './0002-more-factors.js';
import * as securityEvents from './0003-security-events.js';
import * as recoveryAndDevices from './0004-recovery-and-devices.js';
import * as revokedSessionsFeed from './0005-revoked-sessions-feed.js';
import * as credentialsChanged from './0006-credentials-changed.js';
import * as passkeyAttestation from './0007-passkey-attestation.js';
import * as emailVerification from './0008-email-verification.js';
import * as strictFeedCursor from './0009-strict-feed-cursor.js';
import * as sealedOutbox from './0010-sealed-outbox.js';
import * as instanceLease from './0011-instance-lease.js';
import * as refreshGrace from './0012-refresh-grace.js';
import * as boundedGrowth from './0013-bounded-growth.js';
import * as emailVerificationExpiry from './0014-email-verification-expiry.js';
import * as oidcPayloads from './0015-oidc-payloads.js';
import * as oidcSessionGrants from './0016-oidc-session-grants.js';
import * as oidcClientSecretColumn from './0017-oidc-client-secret-column.js';
import * as discoverablePasskeys from './0018-discoverable-passkeys.js';
import * as passkeyOffer from './0020-passkey-offer.js';
import * as dpopSessionBinding from './0021-dpop-session-binding.js';
import * as forwardAuthSessions from './0022-forward-auth-sessions.js';
import * as admin from './0023-admin.js';
import * as importedUsers from './0024-imported-users.js';
import * as adminSearchOrder from './0025-admin-search-order.js';

export const migrations: Record<string, Migration> = {
  '0001-initial': initial,
  '0002-more-factors': moreFactors,
  '0003-security-events': securityEvents,
  '0004-recovery-and-devices': recoveryAndDevices,
  '0005-revoked-sessions-feed': revokedSessionsFeed,
  '0006-credentials-changed': credentialsChanged,
  '0007-passkey-attestation': passkeyAttestation,
  '0008-email-verification': emailVerification,
  '0009-strict-feed-cursor': strictFeedCursor,
  '0010-sealed-outbox': sealedOutbox,
  '0011-instance-lease': instanceLease,
  '0012-refresh-grace': refreshGrace,
  '0013-bounded-growth': boundedGrowth,
  '0014-email-verification-expiry': emailVerificationExpiry,
  '0015-oidc-payloads': oidcPayloads,
  '0016-oidc-session-grants': oidcSessionGrants,
  '0017-oidc-client-secret-column': oidcClientSecretColumn,
  '0018-discoverable-passkeys': discoverablePasskeys,
  '0020-passkey-offer': passkeyOffer,
  '0021-dpop-session-binding': dpopSessionBinding,
  '0022-forward-auth-sessions': forwardAuthSessions,
  '0023-admin': admin,
  '0024-imported-users': importedUsers,
  '0025-admin-search-order': adminSearchOrder,
};
