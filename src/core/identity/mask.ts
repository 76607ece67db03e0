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
  return `${email[0]}•••@${email.slice(at + 1)}`;
}
