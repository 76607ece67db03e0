// Form fields with their label, hint and error wired for assistive technology (the error is
// referenced by aria-describedby and the field is marked aria-invalid), and the translation of a
// flow's error into messages next to the fields it concerns.
import { typedCodeMaxLength } from '../core/otp/typed-code.js';
import { TwofoldError } from '../errors.js';
import { html, type SafeHtml } from './html.js';

export interface FieldOptions {
  label: string;
  name: string;
  type?: 'text' | 'password' | 'tel' | 'email';
  value?: string | undefined;
  autocomplete?: string;
  hint?: string | undefined;
  error?: string | undefined;
  required?: boolean;
  autofocus?: boolean;
  inputmode?: 'numeric' | 'text' | 'tel' | 'email';
  maxlength?: number;
  className?: string;
}

export function field(options: FieldOptions): SafeHtml {
  const hintId = options.hint === undefined ? undefined : `${options.name}-hint`;
  const errorId = options.error === undefined ? undefined : `${options.name}-error`;
  const describedBy = [hintId, errorId].filter((id) => id !== undefined).join(' ');
  const optional = [
    options.required === false ? '' : html` required`,
    options.autofocus === true ? html` autofocus` : '',
    options.inputmode === undefined ? '' : html` inputmode="${options.inputmode}"`,
    options.maxlength === undefined ? '' : html` maxlength="${options.maxlength}"`,
    options.className === undefined ? '' : html` class="${options.className}"`,
    describedBy === '' ? '' : html` aria-describedby="${describedBy}"`,
    options.error === undefined ? '' : html` aria-invalid="true"`,
  ];
  return html`<label for="${options.name}">${options.label}
  ${hintId === undefined ? '' : html`<span class="hint" id="${hintId}">${options.hint}</span>`}
  <input id="${options.name}" name="${options.name}" type="${options.type ?? 'text'}" value="${options.value ?? ''}" autocomplete="${options.autocomplete ?? 'off'}"${optional}>
  ${errorId === undefined ? '' : html`<p class="error" id="${errorId}">${options.error}</p>`}
</label>`;
}

/**
 * The one-time-code field: numeric keyboard on phones, SMS autofill. No `pattern` and no
 * `maxlength` of 6: apps show "792 821", and a maxlength cut a typed or pasted "028 853" to
 * "028 85", while a pattern made the browser block the form with its own bubble. The server reads
 * the code (spaces and dashes allowed) and says what is wrong next to the field; the forms are
 * `novalidate`. The maxlength left is the API's own bound on a typed code.
 */
export function codeField(error: string | undefined, label = 'Code', hint = '6 digits; spaces are fine'): SafeHtml {
  return field({ label, name: 'code', autocomplete: 'one-time-code', inputmode: 'numeric', maxlength: typedCodeMaxLength, className: 'code', error, autofocus: true, hint });
}

export interface FormErrors {
  /** Messages by field name. */
  fields: Record<string, string>;
  /** A message for the whole form. */
  form?: string;
}

/** A flow's error as messages: next to the field it names, or for the whole form. */
export function errorsFrom(error: unknown, defaultField?: string): FormErrors {
  if (!(error instanceof TwofoldError)) throw error;
  const fields: Record<string, string> = {};
  if (error.code === 'weak_password') {
    const reasons = (error.extensions['reasons'] as Array<{ message: string }> | undefined) ?? [];
    fields[defaultField ?? 'password'] = reasons.map((reason) => reason.message).join(' ');
    return { fields };
  }
  const pointers = (error.extensions['errors'] as Array<{ pointer: string; detail: string }> | undefined) ?? [];
  for (const entry of pointers) {
    const name = entry.pointer.replace(/^#\//, '');
    if (/^[a-z_]+$/.test(name)) fields[name] = entry.detail;
  }
  if (Object.keys(fields).length > 0) return { fields };
  if (error.code === 'username_taken') return { fields: { username: error.message } };
  if (error.code === 'invalid_code' && defaultField !== undefined) {
    const remaining = error.extensions['attempts_remaining'];
    return { fields: { [defaultField]: typeof remaining === 'number' && remaining > 0 ? `${error.message} ${remaining} attempt${remaining === 1 ? '' : 's'} left.` : error.message } };
  }
  return { fields, form: error.message };
}
