// The otpauth:// URI (Key Uri Format) and its QR code. The label is "<Issuer>:<account>" and the
// issuer is repeated as a parameter, which is how Google Authenticator and 1Password group
// accounts; algorithm, digits and period are spelled out for apps that do not assume them.
import QRCode from 'qrcode';
import { totpParameters } from './secret.js';

export function buildOtpauthUri(input: { issuer: string; accountName: string; secretBase32: string }): string {
  const label = `${encodeURIComponent(input.issuer)}:${encodeURIComponent(input.accountName)}`;
  const query = new URLSearchParams({
    secret: input.secretBase32,
    issuer: input.issuer,
    algorithm: totpParameters.algorithm,
    digits: String(totpParameters.digits),
    period: String(totpParameters.periodSeconds),
  });
  return `otpauth://totp/${label}?${query.toString().replace(/\+/g, '%20')}`;
}

export function renderQrSvg(text: string): Promise<string> {
  return QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
}
