// The flows as plain functions of one running Twofold, for library mode: an app that embeds
// Twofold calls `twofold.flows.login({ username, password })` instead of an HTTP route. These are
// the very functions the routes call (same checks, throttles, audit events and transactions);
// only the FlowContext argument is bound. Authenticated flows take the result of
// `authenticateMfaToken` / `authenticateAccessToken`, exactly as the routes pass it on.
import { findUserByIdOrUsername, describeUser, listUserViews, resetFactors, unlockUserAccount } from '../account/admin.js';
import { authenticateAccessToken, authenticateMfaToken } from '../sessions/authenticate.js';
import { changePassword } from '../account/change-password.js';
import { confirmFactor } from '../factors/confirm-factor.js';
import type { FlowContext } from '../shared/context.js';
import { changeOwnEmail, resendEmailVerification, verifyEmail } from '../account/email-verification.js';
import { enrollFactor } from '../factors/enroll-factor.js';
import { login } from '../sign-in/login.js';
import { logout } from '../sessions/logout.js';
import { listFactors, regenerateRecoveryCodes, removeOwnFactor, renameOwnFactor } from '../factors/manage-factors.js';
import { describeMe } from '../account/me.js';
import { startChallenge } from '../sign-in/mfa-challenge.js';
import { requestPasswordReset, resetPassword } from '../account/password-reset.js';
import { listOwnSecurityEvents } from '../account/recent-events.js';
import { refreshTokens } from '../sessions/refresh.js';
import { register } from '../sign-in/register.js';
import { listRevokedSessions } from '../sessions/revoked-sessions-feed.js';
import { rotateEncryptionKey } from '../keys/rotate-encryption-key.js';
import { rotateSigningKey } from '../keys/rotate-signing-key.js';
import { listOwnSessions, revokeOtherSessions, revokeOwnSession } from '../sessions/sessions.js';
import { forgetOwnTrustedDevice, listOwnTrustedDevices } from '../factors/trusted-devices.js';
import { verifySecondFactor } from '../sign-in/verify-second-factor.js';
import { completePasskeySignIn, startPasskeySignIn } from '../passkey-sign-in/index.js';

type Flow<Arguments extends unknown[], Result> = (ctx: FlowContext, ...args: Arguments) => Result;

function bound<Arguments extends unknown[], Result>(ctx: FlowContext, flow: Flow<Arguments, Result>): (...args: Arguments) => Result {
  return (...args) => flow(ctx, ...args);
}

export function bindFlows(ctx: FlowContext) {
  return {
    register: bound(ctx, register),
    login: bound(ctx, login),
    authenticateMfaToken: bound(ctx, authenticateMfaToken),
    authenticateAccessToken: bound(ctx, authenticateAccessToken),
    enrollFactor: bound(ctx, enrollFactor),
    confirmFactor: bound(ctx, confirmFactor),
    startChallenge: bound(ctx, startChallenge),
    verifySecondFactor: bound(ctx, verifySecondFactor),
    startPasskeySignIn: bound(ctx, startPasskeySignIn),
    completePasskeySignIn: bound(ctx, completePasskeySignIn),
    refreshTokens: bound(ctx, refreshTokens),
    logout: bound(ctx, logout),
    describeMe: bound(ctx, describeMe),
    listFactors: bound(ctx, listFactors),
    renameFactor: bound(ctx, renameOwnFactor),
    removeFactor: bound(ctx, removeOwnFactor),
    regenerateRecoveryCodes: bound(ctx, regenerateRecoveryCodes),
    changePassword: bound(ctx, changePassword),
    requestPasswordReset: bound(ctx, requestPasswordReset),
    resetPassword: bound(ctx, resetPassword),
    verifyEmail: bound(ctx, verifyEmail),
    resendEmailVerification: bound(ctx, resendEmailVerification),
    changeEmail: bound(ctx, changeOwnEmail),
    listSessions: bound(ctx, listOwnSessions),
    revokeSession: bound(ctx, revokeOwnSession),
    revokeOtherSessions: bound(ctx, revokeOtherSessions),
    listTrustedDevices: bound(ctx, listOwnTrustedDevices),
    forgetTrustedDevice: bound(ctx, forgetOwnTrustedDevice),
    listSecurityEvents: bound(ctx, listOwnSecurityEvents),
    listRevokedSessions: bound(ctx, listRevokedSessions),
    rotateSigningKey: bound(ctx, rotateSigningKey),
    rotateEncryptionKey: bound(ctx, rotateEncryptionKey),
    admin: {
      findUser: bound(ctx, findUserByIdOrUsername),
      describeUser: bound(ctx, describeUser),
      listUsers: bound(ctx, listUserViews),
      unlockUser: bound(ctx, unlockUserAccount),
      resetFactors: bound(ctx, resetFactors),
    },
  };
}

export type TwofoldFlows = ReturnType<typeof bindFlows>;
