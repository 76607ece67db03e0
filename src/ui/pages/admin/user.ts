// A user as the console shows them: who they are and their state, their second factors (what
// kind, name, masked destination — never a secret: the admin API has none to give), sessions,
// remembered browsers and recent security events; and, for an admin (not for support), the
// actions, each a link to its own page where the reason is typed.
import type { AdminUserDetails } from '../../../admin/index.js';
import { deviceName } from '../../device-name.js';
import { eventName } from '../../event-names.js';
import { factorNames } from '../../factor-names.js';
import { html, type SafeHtml } from '../../html.js';
import type { ConsoleAction } from './actions.js';
import { stateOf } from './search.js';
import { adminTime } from './times.js';

/** An event's details (admin, reason, factor…) as text: every value is shown as what it is, never as markup. */
function eventDetails(details: Record<string, unknown>): string {
  return Object.entries(details)
    .filter(([, value]) => value !== null && value !== undefined && typeof value !== 'object')
    .map(([name, value]) => `${name.replace(/_/g, ' ')}: ${String(value)}`)
    .join(' · ');
}

function facts(user: AdminUserDetails): SafeHtml {
  const rows: Array<[string, SafeHtml | string]> = [
    ['User id', user.id],
    ['E-mail', user.email === null ? 'none' : `${user.email} (${user.email_verified ? 'confirmed' : 'not confirmed'})`],
    ['Phone', user.phone ?? 'none'],
    ['State', stateOf(user)],
    ['Roles', user.roles.length === 0 ? 'none' : user.roles.join(', ')],
    ['Created', adminTime(user.created_at)],
    ['Last sign-in', adminTime(user.last_sign_in_at, 'never')],
    ['Recovery codes left', String(user.recovery_codes_remaining)],
    ['Password', !user.has_password ? 'none (signs in with a passkey)' : user.password_reset_required ? 'must be reset before the next sign-in' : 'set'],
    ['Second factor at next sign-in', user.enroll_required ? 'must set one up' : 'asked as usual'],
    ['Failed sign-ins in a row', String(user.failed_attempts)],
  ];
  if (user.delete_after !== null) rows.push(['Deleted after', adminTime(user.delete_after)]);
  return html`<dl class="facts" data-user-facts>${rows.map(([name, value]) => html`<dt>${name}</dt><dd>${value}</dd>`)}</dl>`;
}

function factorsTable(user: AdminUserDetails): SafeHtml {
  if (user.factors.length === 0) return html`<p class="muted" data-no-factors>No second factor.</p>`;
  return html`<table data-factors>
  <thead><tr><th scope="col">Factor</th><th scope="col">Name</th><th scope="col">Sent to</th><th scope="col">State</th><th scope="col">Last used</th></tr></thead>
  <tbody>${user.factors.map(
    (factor) => html`<tr data-factor-id="${factor.id}"><td data-label="Factor">${factorNames[factor.type] ?? factor.type}</td><td data-label="Name">${factor.label ?? ''}</td><td data-label="Sent to">${factor.destination ?? ''}</td><td data-label="State">${factor.status}</td><td data-label="Last used">${adminTime(factor.last_used_at, 'never')}</td></tr>`,
  )}</tbody>
</table>`;
}

function sessionsTable(user: AdminUserDetails): SafeHtml {
  if (user.sessions.length === 0) return html`<p class="muted" data-no-sessions>Not signed in anywhere.</p>`;
  return html`<table data-sessions>
  <thead><tr><th scope="col">Device (as its browser describes itself)</th><th scope="col">Started</th><th scope="col">Last active</th><th scope="col">From</th><th scope="col">How</th></tr></thead>
  <tbody>${user.sessions.map(
    (session) =>
      html`<tr data-session-id="${session.id}"><td data-label="Device"><span title="${session.user_agent ?? ''}" data-device>${deviceName(session.user_agent)}</span></td><td data-label="Started">${adminTime(session.created_at)}</td><td data-label="Last active">${adminTime(session.last_active_at)}</td><td data-label="From">${session.ip ?? ''}</td><td data-label="How">${[session.acr, ...session.amr].filter((part) => part !== '').join(' · ')}</td></tr>`,
  )}</tbody>
</table>`;
}

function devicesTable(user: AdminUserDetails): SafeHtml {
  if (user.trusted_devices.length === 0) return html`<p class="muted">No remembered browser.</p>`;
  return html`<table data-devices>
  <thead><tr><th scope="col">Device (as its browser described itself)</th><th scope="col">Remembered until</th></tr></thead>
  <tbody>${user.trusted_devices.map((device) => html`<tr data-device-id="${device.id}"><td data-label="Device"><span title="${device.label ?? ''}" data-device>${deviceName(device.label)}</span></td><td data-label="Until">${adminTime(device.expires_at)}</td></tr>`)}</tbody>
</table>`;
}

function eventsTable(user: AdminUserDetails): SafeHtml {
  if (user.recent_events.length === 0) return html`<p class="muted">No events yet.</p>`;
  return html`<table data-events>
  <thead><tr><th scope="col">What</th><th scope="col">When</th><th scope="col">From</th><th scope="col">Details</th></tr></thead>
  <tbody>${user.recent_events.map(
    (event) =>
      html`<tr data-event-id="${event.id}" data-event-type="${event.type}"><td data-label="What">${eventName(event.type)}${event.count > 1 ? ` (${event.count} times)` : ''}</td><td data-label="When">${adminTime(event.created_at)}</td><td data-label="From">${event.ip ?? ''}</td><td data-label="Details">${eventDetails(event.details)}</td></tr>`,
  )}</tbody>
</table>`;
}

function actionLinks(user: AdminUserDetails, actions: readonly ConsoleAction[]): SafeHtml {
  return html`<section aria-labelledby="actions-heading">
  <h2 id="actions-heading">Help this user</h2>
  <p class="muted">Each action asks for the reason first; the reason is kept in the user's security events with your name.</p>
  <div class="row" data-actions>${actions
    .filter((action) => action.offered(user))
    .map((action) => html`<a class="button ${action.danger ? 'danger' : 'secondary'}" href="/admin/users/${encodeURIComponent(user.id)}/${action.slug}" data-action="${action.slug}">${action.title}</a>`)}</div>
</section>`;
}

/** `actions`: what this reader may do (none for support: read-only). */
export function renderUser(user: AdminUserDetails, actions: readonly ConsoleAction[]): SafeHtml {
  return html`
<p><a href="/admin">← Back to the search</a></p>
${facts(user)}
${actions.length === 0 ? html`<p class="muted" data-read-only>You can look, not act: your role is read-only.</p>` : actionLinks(user, actions)}
<section aria-labelledby="factors-heading"><h2 id="factors-heading">Second factors</h2>${factorsTable(user)}</section>
<section aria-labelledby="sessions-heading"><h2 id="sessions-heading">Sessions</h2>${sessionsTable(user)}</section>
<section aria-labelledby="devices-heading"><h2 id="devices-heading">Remembered browsers</h2>${devicesTable(user)}</section>
<section aria-labelledby="events-heading"><h2 id="events-heading">Recent security events</h2>${eventsTable(user)}</section>`;
}
