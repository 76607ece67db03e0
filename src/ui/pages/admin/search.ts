// The console's search: the filters of GET /admin (username or e-mail, phone number ending,
// locked, which second factor, signed-up and last-sign-in days) read from the query string into the admin API's query, and the
// page with the form and a page of results ("Next page" carries the API's opaque cursor and the
// same filters). A filter the form cannot produce is refused with a page that says which.
import type { AdminUserQuery, AdminUserSummary } from '../../../admin/index.js';
import { TwofoldError } from '../../../errors.js';
import { factorNames } from '../../factor-names.js';
import { html, type SafeHtml } from '../../html.js';
import { adminTime } from './times.js';

/** Results on one page. */
export const usersPerPage = 20;

const factorChoices: ReadonlyArray<readonly [string, string]> = [
  ['', 'Any or none'],
  ['any', 'Has a second factor'],
  ['none', 'Has no second factor'],
  ['totp', factorNames['totp'] ?? 'totp'],
  ['sms', factorNames['sms'] ?? 'sms'],
  ['email', factorNames['email'] ?? 'email'],
  ['webauthn', factorNames['webauthn'] ?? 'webauthn'],
];
const lockedChoices: ReadonlyArray<readonly [string, string]> = [
  ['', 'Locked or not'],
  ['yes', 'Locked'],
  ['no', 'Not locked'],
];

/** The filters as typed in the form (shown again in it, and carried to the next page). */
export interface SearchForm {
  q: string;
  phone: string;
  locked: string;
  factor: string;
  /** Days (YYYY-MM-DD, UTC), both ends included: signed up, last signed in. */
  createdFrom: string;
  createdTo: string;
  signedInFrom: string;
  signedInTo: string;
  after: string;
}

const dayMs = 86_400_000;

/** A day typed in a date field (YYYY-MM-DD, a real date), or '' for none. */
function day(query: Record<string, unknown>, name: string, label: string): string {
  const value = text(query, name, label);
  if (value === '') return '';
  const start = /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(value) ? Date.parse(`${value}T00:00:00Z`) : Number.NaN;
  if (Number.isNaN(start) || new Date(start).toISOString().slice(0, 10) !== value) throw new TwofoldError('invalid_request', `The filter “${label}” must be a date like 2026-12-31.`);
  return value;
}

/** The first millisecond of a day (from), or of the day after it (to: the day itself is included). */
function dayStart(value: string, include: 'from' | 'to'): number | undefined {
  if (value === '') return undefined;
  return Date.parse(`${value}T00:00:00Z`) + (include === 'to' ? dayMs : 0);
}

const textLimit = 320;

function text(query: Record<string, unknown>, name: string, label: string): string {
  const value = query[name];
  if (value === undefined) return '';
  if (typeof value !== 'string' || value.length > textLimit) throw new TwofoldError('invalid_request', `The filter “${label}” must be one text of at most ${textLimit} characters.`);
  return value.trim();
}

function choice(query: Record<string, unknown>, name: string, label: string, choices: ReadonlyArray<readonly [string, string]>): string {
  const value = text(query, name, label);
  if (!choices.some(([key]) => key === value)) throw new TwofoldError('invalid_request', `The filter “${label}” has no choice “${value}”.`);
  return value;
}

export function readSearchForm(query: unknown): SearchForm {
  const fields = (query ?? {}) as Record<string, unknown>;
  return {
    q: text(fields, 'q', 'Username or e-mail'),
    phone: text(fields, 'phone', 'Phone number ends with'),
    locked: choice(fields, 'locked', 'Locked', lockedChoices),
    factor: choice(fields, 'factor', 'Second factor', factorChoices),
    createdFrom: day(fields, 'created_from', 'Signed up from'),
    createdTo: day(fields, 'created_to', 'Signed up until'),
    signedInFrom: day(fields, 'signed_in_from', 'Last signed in from'),
    signedInTo: day(fields, 'signed_in_to', 'Last signed in until'),
    after: text(fields, 'after', 'Next page'),
  };
}

export function adminQueryOf(form: SearchForm): AdminUserQuery {
  return {
    ...(form.q === '' ? {} : { q: form.q }),
    ...(form.phone === '' ? {} : { phoneSuffix: form.phone }),
    ...(form.locked === '' ? {} : { locked: form.locked === 'yes' }),
    ...(form.factor === '' ? {} : { hasFactor: form.factor as AdminUserQuery['hasFactor'] }),
    createdAfter: dayStart(form.createdFrom, 'from'),
    createdBefore: dayStart(form.createdTo, 'to'),
    lastSignInAfter: dayStart(form.signedInFrom, 'from'),
    lastSignInBefore: dayStart(form.signedInTo, 'to'),
    ...(form.after === '' ? {} : { after: form.after }),
    limit: usersPerPage,
  };
}

function select(name: string, label: string, choices: ReadonlyArray<readonly [string, string]>, selected: string): SafeHtml {
  return html`<label for="${name}">${label}
  <select id="${name}" name="${name}">${choices.map(([value, text]) => html`<option value="${value}"${value === selected ? html` selected` : ''}>${text}</option>`)}</select>
</label>`;
}

/** The query string of the form's filters (the names the form uses), without the page. */
function filterParameters(form: SearchForm): URLSearchParams {
  const named: Record<string, string> = { q: form.q, phone: form.phone, locked: form.locked, factor: form.factor, created_from: form.createdFrom, created_to: form.createdTo, signed_in_from: form.signedInFrom, signed_in_to: form.signedInTo };
  return new URLSearchParams(Object.entries(named).filter(([, value]) => value !== ''));
}

function nextPageLink(form: SearchForm, next: string | null): SafeHtml | string {
  if (next === null) return '';
  const params = filterParameters(form);
  params.set('after', next);
  return html`<p><a class="button secondary" href="/admin?${params.toString()}" data-next-page>Next page</a></p>`;
}

function dateInput(name: string, label: string, value: string): SafeHtml {
  return html`<label for="${name}">${label}
    <input id="${name}" name="${name}" type="date" value="${value}">
  </label>`;
}

/** A user's state in a word or two: what an operator looks for first. */
export function stateOf(user: Pick<AdminUserSummary, 'locked' | 'disabled' | 'delete_after'>): string {
  const states = [user.disabled ? 'disabled' : '', user.locked ? 'locked' : '', user.delete_after === null ? '' : 'to be deleted'].filter((state) => state !== '');
  return states.length === 0 ? 'active' : states.join(', ');
}

export function factorList(types: readonly string[]): string {
  return types.length === 0 ? 'none' : types.map((type) => factorNames[type] ?? type).join(', ');
}

export function renderSearch(form: SearchForm, result: { users: AdminUserSummary[]; next: string | null }): SafeHtml {
  return html`
<form class="card filters" method="get" action="/admin" role="search">
  <label for="q">Username or e-mail
    <input id="q" name="q" type="text" value="${form.q}" maxlength="${textLimit}" autocomplete="off" autocapitalize="none" spellcheck="false">
  </label>
  <label for="phone">Phone number ends with
    <input id="phone" name="phone" type="tel" value="${form.phone}" maxlength="32" autocomplete="off" inputmode="tel">
  </label>
  ${select('locked', 'Locked', lockedChoices, form.locked)}
  ${select('factor', 'Second factor', factorChoices, form.factor)}
  ${dateInput('created_from', 'Signed up from', form.createdFrom)}
  ${dateInput('created_to', 'Signed up until', form.createdTo)}
  ${dateInput('signed_in_from', 'Last signed in from', form.signedInFrom)}
  ${dateInput('signed_in_to', 'Last signed in until', form.signedInTo)}
  <div class="row"><button type="submit">Search</button><a class="button secondary" href="/admin">Clear</a></div>
</form>
<section aria-labelledby="results-heading">
  <h2 id="results-heading">${form.after === '' ? 'Users' : 'Users (continued)'}</h2>
  ${
    result.users.length === 0
      ? html`<p class="muted" data-no-results>No user matches.</p>`
      : html`<table data-results>
  <thead><tr><th scope="col">User</th><th scope="col">E-mail</th><th scope="col">Phone</th><th scope="col">Second factors</th><th scope="col">State</th><th scope="col">Last sign-in</th></tr></thead>
  <tbody>${result.users.map(
    (user) => html`<tr data-user-id="${user.id}">
    <td data-label="User"><a href="/admin/users/${encodeURIComponent(user.id)}">${user.username}</a>${user.roles.length === 0 ? '' : html` <span class="badge">${user.roles.join(', ')}</span>`}</td>
    <td data-label="E-mail">${user.email ?? ''}</td>
    <td data-label="Phone">${user.phone ?? ''}</td>
    <td data-label="Second factors">${factorList(user.factor_types)}</td>
    <td data-label="State">${stateOf(user)}</td>
    <td data-label="Last sign-in">${adminTime(user.last_sign_in_at, 'never')}</td>
  </tr>`,
  )}</tbody>
</table>`
  }
  ${nextPageLink(form, result.next)}
</section>`;
}
