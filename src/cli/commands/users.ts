// `twofold users list|show|unlock|reset-factors|grant-role|revoke-role`.
import { userInfo } from 'node:os';
import { describeUser, listUserViews, resetFactors, unlockUserAccount } from '../../flows/account/admin.js';
import { grantRoleFromCli, parseAdminRole, revokeRoleFromCli } from '../../admin/roles.js';
import { printError, printJson, printLines, printTable } from '../output.js';
import { withTwofold } from './with-twofold.js';

export async function listUsersCommand(options: { json?: boolean; limit: number; after?: string }): Promise<void> {
  await withTwofold(async (twofold) => {
    const users = await listUserViews(twofold.context, { limit: options.limit, after: options.after });
    if (options.json === true) printJson(users);
    else printTable(users.map(({ id, username, email, phone, created_at }) => ({ id, username, email, phone, created_at })));
  });
}

export async function showUserCommand(user: string, options: { json?: boolean }): Promise<void> {
  await withTwofold(async (twofold) => {
    const details = await describeUser(twofold.context, user);
    if (options.json === true) return printJson(details);
    const { factors, ...rest } = details;
    printTable([Object.fromEntries(Object.entries(rest).map(([key, value]) => [key, value === null ? null : String(value)]))]);
    printLines('', 'factors:');
    printTable(factors.map(({ id, type, label, status, activated_at, last_used_at }) => ({ id, type, label, status, activated_at, last_used_at })));
  });
}

export async function unlockCommand(user: string, options: { json?: boolean }): Promise<void> {
  await withTwofold(async (twofold) => {
    const result = await unlockUserAccount(twofold.context, user, `cli:${userInfo().username}`);
    if (options.json === true) return printJson(result);
    printLines(result.wasLocked ? `unlocked ${result.user.username}; the failure count starts over.` : `${result.user.username} was not locked; the failure count starts over.`);
  });
}

export async function resetFactorsCommand(user: string, options: { json?: boolean; yes?: boolean }): Promise<void> {
  if (options.yes !== true) {
    printError('This removes every factor and recovery code of the user and ends their sessions.', 'Run again with --yes to confirm.');
    process.exitCode = 2;
    return;
  }
  await withTwofold(async (twofold) => {
    const result = await resetFactors(twofold.context, user, `cli:${userInfo().username}`);
    if (options.json === true) return printJson(result);
    printLines(
      `reset ${result.user.username}: ${result.factorsRemoved} factor(s) and ${result.recoveryCodesRemoved} recovery code(s) removed, ` +
        `${result.sessionsRevoked} session(s) ended. Their next login will ask them to enroll a new factor.`,
    );
  });
}

export async function grantRoleCommand(user: string, role: string, options: { json?: boolean }): Promise<void> {
  await withTwofold(async (twofold) => {
    const result = await grantRoleFromCli(twofold.context, user, parseAdminRole(role), `cli:${userInfo().username}`);
    if (options.json === true) return printJson(result);
    printLines(result.changed ? `granted ${role} to ${result.user.username}.` : `${result.user.username} already holds ${role}.`);
  });
}

export async function revokeRoleCommand(user: string, role: string, options: { json?: boolean }): Promise<void> {
  await withTwofold(async (twofold) => {
    const result = await revokeRoleFromCli(twofold.context, user, parseAdminRole(role), `cli:${userInfo().username}`);
    if (options.json === true) return printJson(result);
    printLines(result.changed ? `revoked ${role} from ${result.user.username}.` : `${result.user.username} did not hold ${role}.`);
  });
}
