import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { chooseLogFormat, createStdoutLogger } from './pretty-log.js';

/** A stdout stand-in that says whether it is a terminal and keeps what is written. */
function fakeStdout(isTTY: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      text += String(chunk);
      callback();
    },
  }) as unknown as NodeJS.WriteStream;
  Object.assign(stream, { isTTY });
  return { stream, text: () => text };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('log format', () => {
  it('auto: pretty on a terminal outside production; JSON in production, in a pipe or a file; TWOFOLD_LOG_FORMAT decides when set', () => {
    expect(chooseLogFormat({ mode: 'development', log: { level: 'info', format: 'auto' } }, true)).toBe('pretty');
    expect(chooseLogFormat({ mode: 'test', log: { level: 'info' } }, true)).toBe('pretty');
    expect(chooseLogFormat({ mode: 'development', log: { level: 'info', format: 'auto' } }, false)).toBe('json');
    expect(chooseLogFormat({ mode: 'production', log: { level: 'info', format: 'auto' } }, true)).toBe('json');
    expect(chooseLogFormat({ mode: 'production', log: { level: 'info', format: 'pretty' } }, false)).toBe('pretty');
    expect(chooseLogFormat({ mode: 'development', log: { level: 'info', format: 'json' } }, true)).toBe('json');
  });

  it('on a terminal, lines are read by a person: time, level and message, fields below; secrets redacted, escape sequences shown, never obeyed', async () => {
    const stdout = fakeStdout(true);
    const logger = await createStdoutLogger({ mode: 'development', log: { level: 'info', format: 'auto' } }, stdout.stream);
    logger.child({ component: 'security' }).info({ event: 'login.password_failed', userAgent: 'evil\u001b[2Jagent\u202e', password: 'hunter2 hunter2', headers: { authorization: 'Bearer abc.def.ghi' } }, 'security event login.password_failed');
    logger.error({ err: new Error('broken') }, 'unhandled error');
    await flush();
    const coloured = stdout.text();
    // Colours (pino-pretty's own SGR sequences) on a terminal; the text without them below.
    expect(coloured).toContain('\u001b[32mINFO\u001b[39m');
    const text = coloured.replace(new RegExp(`${String.fromCharCode(27)}\\[\\d+m`, 'g'), '');
    expect(text).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: security event login\.password_failed$/m);
    expect(text).toMatch(/component: .*"security"/);
    expect(text).not.toMatch(/^\{"level"/m);
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('abc.def.ghi');
    expect(text).toContain('[redacted]');
    expect(text).toContain('evil\\x1b[2Jagent\\u202e');
    expect(coloured).not.toContain('\u001b[2J');
    expect(coloured).not.toContain('\u202e');
    // A stack trace keeps its lines.
    expect(text).toMatch(/Error: broken\n\s+at /);
  });

  it('in a pipe, lines stay JSON (one object per line)', async () => {
    const stdout = fakeStdout(false);
    const logger = await createStdoutLogger({ mode: 'development', log: { level: 'info', format: 'auto' } }, stdout.stream);
    logger.info({ password: 'hunter2 hunter2', userAgent: 'evil\u009b2J' }, 'incoming request');
    await flush();
    const lines = stdout.text().trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 30, msg: 'incoming request', password: '[redacted]', userAgent: 'evil\u009b2J' });
    expect(lines[0]).toContain('evil\\u009b2J');
  });
});
