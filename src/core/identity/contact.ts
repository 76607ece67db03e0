// Optional contact details given at registration. They are stored for later factors (SMS,
// e-mail) and notifications; here they are only checked for shape, never trusted as verified.
// An address is shown to operators and in messages: no control or bidi character (U+202E would
// show "moc.evil@bank" reversed).
import { containsUnsafeCharacters } from '../text/unsafe-characters.js';

const emailShape = /^[^\s@\p{Cc}]{1,64}@[^\s@\p{Cc}]{1,255}$/u;
const e164Shape = /^\+[1-9][0-9]{6,14}$/;

export function normalizeEmail(input: string): string | undefined {
  const email = input.normalize('NFKC').trim();
  if (!emailShape.test(email) || containsUnsafeCharacters(email) || !email.split('@')[1]?.includes('.')) return undefined;
  const [local, domain] = email.split('@') as [string, string];
  return `${local}@${domain.toLowerCase()}`;
}

/** E.164 only (`+`, then 7–15 digits with the country code first); spaces, dashes, dots and parentheses are dropped. */
export function normalizePhone(input: string): string | undefined {
  const phone = input.normalize('NFKC').replace(/[\s().-]/g, '');
  return e164Shape.test(phone) ? phone : undefined;
}
