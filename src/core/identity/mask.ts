// How a phone number or e-mail address is shown back: enough for a person to recognise which one
// (the last digits, the first letter and the domain), not enough to be harvested from a login.

export function maskPhone(phone: string): string {
  const digits = phone.replace(/^\+/, '');
  const visible = digits.slice(-2);
  return `+${'•'.repeat(Math.max(0, digits.length - visible.length))}${visible}`;
}

export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at < 1) return '•••';
  // The first character, whole: an emoji is two UTF-16 units, and half of one is not a character.
  const [first] = email;
  return `${first}•••@${email.slice(at + 1)}`;
}
