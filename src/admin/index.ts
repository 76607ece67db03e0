// The admin capability: the API's routes (src/http/admin/) and the /admin pages call
// these, with the caller's AccessAuthentication checked by requireAdmin first.
export { requireAdmin, requireRightOver, adminStepUpMaxAgeSeconds, type AdminActor } from './admin-actor.js';
export { adminRoles, isAdminRole, parseAdminRole, mayWrite, isProtectedAdmin, grantRoleFromCli, revokeRoleFromCli, type AdminRole } from './roles.js';
export { searchUsers, parseAdminUserQuery, defaultAdminSearchLimit, maxAdminSearchLimit, maxAdminQueryLength, type AdminUserQuery, type AdminUserSummary } from './user-search.js';
export { showUser, findAdminTarget, type AdminUserDetails } from './user-details.js';
export { checkReason, minReasonLength, maxReasonLength } from './actions/admin-write.js';
export { lockUser, unlockUser } from './actions/lock-user.js';
export { endUserSessions } from './actions/end-sessions.js';
export { forcePasswordReset } from './actions/force-password-reset.js';
export { deleteUser, cancelUserDeletion } from './actions/delete-user.js';
export { resetSecondFactors } from './actions/reset-second-factors.js';
export { grantRole, revokeRole } from './actions/grant-role.js';
export { exportUsers, adminExportColumns, type AdminExportFilters } from './user-export.js';
