// Real local stand-ins for the delivery providers: an HTTP server for the SMS
// webhook and for Twilio's Messages API, and an SMTP server (smtp-server). Each listens on
// 127.0.0.1 on a free port, records what it received, and is closed by the suite that started it.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerAddress } from 'smtp-server';
import { findFreePort } from './process.js';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface FakeHttpServer {
  port: number;
  baseUrl: string;
  requests: ReceivedRequest[];
  close(): Promise<void>;
}

/** An HTTP server that reads each request fully, records it, and lets `handle` answer (or not). */
export async function startFakeHttpServer(handle: (request: ReceivedRequest, response: ServerResponse) => void): Promise<FakeHttpServer> {
  const requests: ReceivedRequest[] = [];
  const server = createServer((incoming, response) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const request = { method: incoming.method ?? '', path: incoming.url ?? '', headers: incoming.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(request);
      handle(request, response);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        // Requests left hanging on purpose must not keep the server (or the test run) alive.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

/** A URL on which nothing listens (the port was free a moment ago and stays unused). */
export async function unreachableUrl(path = ''): Promise<string> {
  return `http://127.0.0.1:${await findFreePort()}${path}`;
}

// ---------------------------------------------------------------------------------------------
// The webhook signature, computed here independently of Twofold's code:
//   Twofold-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>

export function parseSignatureHeader(header: string | string[] | undefined): { timestamp: number; signature: string } | undefined {
  if (typeof header !== 'string') return undefined;
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
  return match === null ? undefined : { timestamp: Number(match[1]), signature: match[2]! };
}

export function isValidWebhookSignature(secret: string, header: string | string[] | undefined, body: string): boolean {
  const parsed = parseSignatureHeader(header);
  if (parsed === undefined) return false;
  const expected = createHmac('sha256', secret).update(`${parsed.timestamp}.${body}`, 'utf8').digest();
  return timingSafeEqual(expected, Buffer.from(parsed.signature, 'hex'));
}

// ---------------------------------------------------------------------------------------------
// A fake Twilio Messages API that checks the documented request:
//   POST /2010-04-01/Accounts/{AccountSid}/Messages.json, HTTP Basic auth AccountSid:AuthToken,
//   application/x-www-form-urlencoded To, From or MessagingServiceSid, Body → 201 {sid: "SM…", status: "queued", …}
// and answers refusals the way Twilio does: {code, message, more_info, status}.

export interface TwilioMessage {
  To: string;
  From: string | null;
  MessagingServiceSid: string | null;
  Body: string;
}

export interface FakeTwilio extends FakeHttpServer {
  /** Messages accepted (201). */
  messages: TwilioMessage[];
  /** Numbers Twilio refuses (400, error 21211). */
  refused: Set<string>;
  /** Numbers for which Twilio answers 500 the next `n` times (Infinity: always). */
  failing: Map<string, number>;
}

export function twilioError(response: ServerResponse, status: number, code: number, message: string): void {
  sendJson(response, status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });
}

export async function startFakeTwilio(credentials: { accountSid: string; authToken: string }): Promise<FakeTwilio> {
  const messages: TwilioMessage[] = [];
  const refused = new Set<string>();
  const failing = new Map<string, number>();
  const expectedAuthorization = `Basic ${Buffer.from(`${credentials.accountSid}:${credentials.authToken}`).toString('base64')}`;
  const server = await startFakeHttpServer((request, response) => {
    const match = /^\/2010-04-01\/Accounts\/([^/?]+)\/Messages\.json$/.exec(request.path);
    if (request.method !== 'POST' || match === null) return twilioError(response, 404, 20404, 'The requested resource was not found');
    if (request.headers.authorization !== expectedAuthorization || decodeURIComponent(match[1]!) !== credentials.accountSid) {
      return twilioError(response, 401, 20003, 'Authenticate');
    }
    if (!String(request.headers['content-type']).startsWith('application/x-www-form-urlencoded')) {
      return twilioError(response, 400, 20001, 'Expected a form-encoded body');
    }
    const form = new URLSearchParams(request.body);
    const message: TwilioMessage = { To: form.get('To') ?? '', From: form.get('From'), MessagingServiceSid: form.get('MessagingServiceSid'), Body: form.get('Body') ?? '' };
    if (!/^\+[1-9][0-9]{6,14}$/.test(message.To)) return twilioError(response, 400, 21211, `The 'To' number ${message.To} is not a valid phone number.`);
    if (message.Body === '') return twilioError(response, 400, 21602, 'Message body is required.');
    if (message.From === null && message.MessagingServiceSid === null) return twilioError(response, 400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required to send a message.");
    if (refused.has(message.To)) return twilioError(response, 400, 21211, `The 'To' number ${message.To} is not a valid phone number.`);
    const failuresLeft = failing.get(message.To) ?? 0;
    if (failuresLeft > 0) {
      failing.set(message.To, failuresLeft - 1);
      return twilioError(response, 500, 20500, 'Internal Server Error');
    }
    messages.push(message);
    const sid = `SM${randomBytes(16).toString('hex')}`;
    sendJson(response, 201, {
      sid,
      account_sid: credentials.accountSid,
      to: message.To,
      from: message.From,
      messaging_service_sid: message.MessagingServiceSid,
      body: message.Body,
      status: 'queued',
      num_segments: '1',
      direction: 'outbound-api',
      api_version: '2010-04-01',
      uri: `/2010-04-01/Accounts/${credentials.accountSid}/Messages/${sid}.json`,
    });
  });
  return { ...server, messages, refused, failing };
}

// ---------------------------------------------------------------------------------------------
// A real SMTP server (smtp-server), plain SMTP on 127.0.0.1 without TLS or authentication.

export interface ReceivedMail {
  mailFrom: string;
  rcptTo: string[];
  raw: string;
  headers: Record<string, string>;
  /** The decoded text body. */
  text: string;
}

export interface FakeSmtp {
  port: number;
  url: string;
  mails: ReceivedMail[];
  /** Recipients refused at RCPT TO with this SMTP reply code (e.g. 550 permanent, 451 temporary). */
  refuse: Map<string, number>;
  close(): Promise<void>;
}

function decodeQuotedPrintable(text: string): string {
  const bytes = text.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_match, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

export function parseMail(raw: string): { headers: Record<string, string>; text: string } {
  const split = raw.indexOf('\r\n\r\n');
  const head = split === -1 ? raw : raw.slice(0, split);
  const body = split === -1 ? '' : raw.slice(split + 4);
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const encoding = (headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  const text = encoding === 'quoted-printable' ? decodeQuotedPrintable(body) : encoding === 'base64' ? Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8') : body;
  return { headers, text };
}

export async function startFakeSmtp(): Promise<FakeSmtp> {
  const mails: ReceivedMail[] = [];
  const refuse = new Map<string, number>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(address: SMTPServerAddress, _session, callback) {
      const code = refuse.get(address.address);
      if (code === undefined) return callback();
      return callback(Object.assign(new Error(code >= 500 ? 'No such user here' : 'Mailbox temporarily unavailable'), { responseCode: code }));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const mailFrom = session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address;
        mails.push({ mailFrom, rcptTo: session.envelope.rcptTo.map((rcpt) => rcpt.address), raw, ...parseMail(raw) });
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    mails,
    refuse,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The six-digit code in a message text (the first one: the sentence; the last line repeats it). */
export function codeIn(text: string): string {
  const code = /\b(\d{6})\b/.exec(text)?.[1];
  if (code === undefined) throw new Error(`no code in: ${text}`);
  return code;
}
