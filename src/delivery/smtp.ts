// E-mail through any SMTP server (nodemailer), with bounded connection, greeting and socket
// timeouts. A permanent SMTP refusal (5xx) is "rejected"; anything else is "unavailable".
import nodemailer from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import { DeliveryError, type MessageSender } from './message.js';

export interface SmtpSenderOptions {
  url: string;
  from: string;
  timeoutMs: number;
  /**
   * smtp:// upgrades with STARTTLS only when the server offers it, so anyone on the path can strip
   * the offer and read the codes and the password in clear; with this set, no STARTTLS means no send.
   */
  requireTls?: boolean;
}

export function createSmtpSender(options: SmtpSenderOptions): MessageSender & { close(): void } {
  const transportOptions: SMTPTransport.Options & { url: string } = {
    url: options.url,
    connectionTimeout: options.timeoutMs,
    greetingTimeout: options.timeoutMs,
    socketTimeout: options.timeoutMs,
    ...(options.requireTls === true ? { requireTLS: true } : {}),
  };
  const transport = nodemailer.createTransport(transportOptions);
  return {
    provider: 'smtp',
    async send(message) {
      try {
        await transport.sendMail({ from: options.from, to: message.to, subject: message.subject ?? 'Your code', text: message.text });
      } catch (cause) {
        const responseCode = (cause as { responseCode?: unknown }).responseCode;
        const permanent = typeof responseCode === 'number' && responseCode >= 500;
        throw new DeliveryError(permanent ? 'rejected' : 'unavailable', `the SMTP server ${permanent ? `refused the message (${responseCode})` : 'could not be reached'}`, { cause });
      }
    },
    close() {
      transport.close();
    },
  };
}
