import { X509Certificate } from 'node:crypto';
import { availableParallelism, tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestPki, type TestCertificateAuthority, type TestPki } from '../../test/helpers/attestation-ca.js';
import { ConfigError, ConfigErrors, loadConfig } from './load.js';

const productionKey = Buffer.alloc(32, 7).toString('base64');
const completeProduction = {
  NODE_ENV: 'production',
  TWOFOLD_PUBLIC_URL: 'https://auth.example.com',
  TWOFOLD_ENCRYPTION_KEY: productionKey,
  TWOFOLD_DATA_DIR: '/var/lib/twofold',
  TWOFOLD_SMS_PROVIDER: 'webhook',
  TWOFOLD_SMS_WEBHOOK_URL: 'https://sms.example.com/send',
  TWOFOLD_SMS_WEBHOOK_SECRET: 'a-webhook-secret-of-some-length',
  TWOFOLD_EMAIL_PROVIDER: 'smtp',
  TWOFOLD_SMTP_URL: 'smtps://twofold:mail-password@smtp.example.com',
};

/** Runs loadConfig and returns the ConfigError it throws (failing the test when it does not). */
function configErrorOf(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  return expect.fail(`expected loadConfig(${JSON.stringify(env)}) to throw a ConfigError`);
}

describe('loadConfig(): defaults', () => {
  it('uses the documented defaults for an empty environment', () => {
    const config = loadConfig({});
    expect(config.mode).toBe('development');
    expect(config.http).toEqual({ host: 'localhost', port: 3000, bodyLimitBytes: 16 * 1024, trustedProxies: [], corsOrigins: [] });
    expect(config.publicUrl).toBe('http://localhost:3000');
    expect(config.issuer).toBe('http://localhost:3000');
    expect(config.audience).toBe('http://localhost:3000');
    expect(config.clientId).toBe('twofold');
    expect(config.serviceName).toBe('Twofold');
    expect(config.dataDir).toBe(resolve('data'));
    expect(config.database).toEqual({ kind: 'sqlite', path: resolve('data', 'twofold.db') });
    expect(config.encryptionKey).toBeUndefined();
    expect(config.previousEncryptionKeys).toEqual([]);
    expect(config.log.level).toBe('info');
  });

  it('reads TWOFOLD_PREVIOUS_ENCRYPTION_KEYS as a comma-separated list (checked when the keys are resolved)', () => {
    const other = Buffer.alloc(32, 8).toString('base64');
    const config = loadConfig({ ...completeProduction, TWOFOLD_PREVIOUS_ENCRYPTION_KEYS: ` ${other} ,, ${Buffer.alloc(32, 9).toString('hex')} ` });
    expect(config.previousEncryptionKeys).toEqual([other, Buffer.alloc(32, 9).toString('hex')]);
  });

  it('SS-03: defaults to 10-minute access tokens, 5-minute mfa tokens, 60 s skew and EdDSA', () => {
    expect(loadConfig({}).tokens).toEqual({ accessTokenTtlSeconds: 600, mfaTokenTtlSeconds: 300, clockSkewSeconds: 60, signingAlgorithm: 'EdDSA', refreshReuseGraceSeconds: 10 });
  });

  it('SS-03: defaults to 30-minute idle and 12-hour absolute session timeouts', () => {
    expect(loadConfig({}).sessions).toEqual({ idleTimeoutSeconds: 1800, absoluteTimeoutSeconds: 43200, stepUpMaxAgeSeconds: 300, maxPerUser: 100 });
  });

  it('FL-05/OT-03: defaults to 5 attempts per mfa token, a TOTP window of 1 step and 10 recovery codes', () => {
    expect(loadConfig({}).mfa).toEqual({ maxAttemptsPerToken: 5, totpWindowSteps: 1, recoveryCodeCount: 10 });
  });

  it('PW-01/PW-08: defaults to 12–128 character passwords and argon2id m=19456 KiB, t=2, p=1', () => {
    const { password } = loadConfig({});
    expect(password.minLength).toBe(12);
    expect(password.maxLength).toBe(128);
    expect(password.argon2).toEqual({ memoryKib: 19456, timeCost: 2, parallelism: 1 });
    expect(password.hashConcurrency).toBe(Math.max(1, availableParallelism()));
    expect(password.hashQueueLimit).toBe(64);
  });

  it('puts the SQLite database at <dataDir>/twofold.db', () => {
    const config = loadConfig({ TWOFOLD_DATA_DIR: '/srv/twofold-data' });
    expect(config.dataDir).toBe('/srv/twofold-data');
    expect(config.database).toEqual({ kind: 'sqlite', path: '/srv/twofold-data/twofold.db' });
  });

  it('treats empty and blank variables as unset, and trims values', () => {
    const config = loadConfig({ TWOFOLD_PORT: '', PORT: '   ', TWOFOLD_SERVICE_NAME: '  Acme  ' });
    expect(config.http.port).toBe(3000);
    expect(config.serviceName).toBe('Acme');
  });

  it('reads overrides of every documented kind', () => {
    const config = loadConfig({
      TWOFOLD_HOST: '0.0.0.0',
      TWOFOLD_AUDIENCE: 'https://api.example.com',
      TWOFOLD_CLIENT_ID: 'web',
      TWOFOLD_ACCESS_TOKEN_TTL_SECONDS: '300',
      TWOFOLD_TOTP_WINDOW_STEPS: '0',
      TWOFOLD_SIGNING_ALG: 'ES256',
      TWOFOLD_LOG_LEVEL: 'silent',
      TWOFOLD_ARGON2_MEMORY_KIB: '1024',
      TWOFOLD_HASH_CONCURRENCY: '3',
    });
    expect(config.http.host).toBe('0.0.0.0');
    expect(config.audience).toBe('https://api.example.com');
    expect(config.clientId).toBe('web');
    expect(config.tokens.accessTokenTtlSeconds).toBe(300);
    expect(config.mfa.totpWindowSteps).toBe(0);
    expect(config.tokens.signingAlgorithm).toBe('ES256');
    expect(config.log.level).toBe('silent');
    expect(config.password.argon2.memoryKib).toBe(1024);
    expect(config.password.hashConcurrency).toBe(3);
  });

  it('a NODE_ENV that is no mode (a typo of production) runs in development mode and says so in a warning', () => {
    for (const known of [undefined, 'production', 'development', 'test']) {
      const env = known === undefined ? {} : known === 'production' ? completeProduction : { NODE_ENV: known };
      expect(loadConfig(env).warnings, String(known)).toEqual([]);
    }
    const typo = loadConfig({ NODE_ENV: 'prod' });
    expect(typo.mode).toBe('development');
    expect(typo.warnings).toEqual([
      'NODE_ENV="prod" is neither production, development nor test: running in development mode (development defaults apply); set NODE_ENV=production for a real deployment',
    ]);
  });

  it('maps NODE_ENV to the run mode', () => {
    expect(loadConfig({ NODE_ENV: 'test' }).mode).toBe('test');
    expect(loadConfig({ NODE_ENV: 'development' }).mode).toBe('development');
    expect(loadConfig({ NODE_ENV: 'staging' }).mode).toBe('development');
  });
});

describe('loadConfig(): port', () => {
  it('reads PORT', () => {
    const config = loadConfig({ PORT: '4000' });
    expect(config.http.port).toBe(4000);
    expect(config.publicUrl).toBe('http://localhost:4000');
  });

  it('ignores PORT entirely when TWOFOLD_PORT is set (a platform PORT cannot break the config)', () => {
    expect(loadConfig({ PORT: 'abc', TWOFOLD_PORT: '5000' }).http.port).toBe(5000);
  });

  it('TWOFOLD_PORT wins over PORT', () => {
    expect(loadConfig({ PORT: '4000', TWOFOLD_PORT: '5000' }).http.port).toBe(5000);
    expect(loadConfig({ TWOFOLD_PORT: '5000' }).http.port).toBe(5000);
  });

  it.each([['abc'], ['-1'], ['3000.5'], ['1e3'], ['65536'], ['0x10']])('refuses TWOFOLD_PORT=%j naming the variable', (value) => {
    const error = configErrorOf({ TWOFOLD_PORT: value });
    expect(error.variable).toBe('TWOFOLD_PORT');
    expect(error.message).toMatch(/^TWOFOLD_PORT: /);
  });

  it('refuses an invalid PORT naming PORT', () => {
    expect(configErrorOf({ PORT: 'http' }).variable).toBe('PORT');
  });
});

describe('loadConfig(): numbers', () => {
  it.each([
    ['TWOFOLD_ACCESS_TOKEN_TTL_SECONDS', '901'],
    ['TWOFOLD_ACCESS_TOKEN_TTL_SECONDS', 'ten'],
    ['TWOFOLD_MFA_TOKEN_TTL_SECONDS', '301'],
    ['TWOFOLD_CLOCK_SKEW_SECONDS', '61'],
    ['TWOFOLD_REFRESH_REUSE_GRACE_SECONDS', '61'],
    ['TWOFOLD_REFRESH_REUSE_GRACE_SECONDS', '-1'],
    ['TWOFOLD_REFRESH_REUSE_GRACE_SECONDS', '2.5'],
    ['TWOFOLD_TOTP_WINDOW_STEPS', '3'],
    ['TWOFOLD_MFA_MAX_ATTEMPTS', '0'],
    ['TWOFOLD_ARGON2_MEMORY_KIB', '512'],
    ['TWOFOLD_ARGON2_TIME_COST', '2.5'],
    ['TWOFOLD_HASH_CONCURRENCY', '0'],
    ['TWOFOLD_SESSION_IDLE_TIMEOUT_SECONDS', '-60'],
    ['TWOFOLD_BODY_LIMIT_BYTES', '10MB'],
  ])('refuses %s=%j naming the variable', (variable, value) => {
    const error = configErrorOf({ [variable]: value });
    expect(error.variable).toBe(variable);
    expect(error.message.startsWith(`${variable}: `)).toBe(true);
  });

  it('JW-08: accepts a clock skew of at most 60 s', () => {
    expect(loadConfig({ TWOFOLD_CLOCK_SKEW_SECONDS: '60' }).tokens.clockSkewSeconds).toBe(60);
    expect(loadConfig({ TWOFOLD_CLOCK_SKEW_SECONDS: '0' }).tokens.clockSkewSeconds).toBe(0);
  });

  it('SS-02: a refresh reuse grace of 0 (off) to 60 s, 10 s by default', () => {
    expect(loadConfig({}).tokens.refreshReuseGraceSeconds).toBe(10);
    expect(loadConfig({ TWOFOLD_REFRESH_REUSE_GRACE_SECONDS: '0' }).tokens.refreshReuseGraceSeconds).toBe(0);
    expect(loadConfig({ TWOFOLD_REFRESH_REUSE_GRACE_SECONDS: '60' }).tokens.refreshReuseGraceSeconds).toBe(60);
  });

  it('SS-03: accepts an access-token lifetime of at most 15 minutes', () => {
    expect(loadConfig({ TWOFOLD_ACCESS_TOKEN_TTL_SECONDS: '900' }).tokens.accessTokenTtlSeconds).toBe(900);
  });
});

const sqlitePath = (env: Record<string, string>): string => {
  const database = loadConfig(env).database;
  if (database.kind !== 'sqlite') throw new Error(`expected sqlite, got ${database.kind}`);
  return database.path;
};

describe('loadConfig(): database URL', () => {
  it('resolves a relative sqlite: path against the working directory', () => {
    expect(loadConfig({ TWOFOLD_DATABASE_URL: 'sqlite:./db/twofold.db' }).database).toEqual({ kind: 'sqlite', path: resolve('db/twofold.db') });
    expect(sqlitePath({ TWOFOLD_DATABASE_URL: 'sqlite:twofold.db' })).toBe(resolve('twofold.db'));
  });

  it('keeps an absolute sqlite: path', () => {
    expect(sqlitePath({ TWOFOLD_DATABASE_URL: 'sqlite:/var/lib/twofold/db.sqlite' })).toBe('/var/lib/twofold/db.sqlite');
  });

  it('reads sqlite:///abs as the absolute path /abs', () => {
    expect(sqlitePath({ TWOFOLD_DATABASE_URL: 'sqlite:///var/lib/twofold/db.sqlite' })).toBe('/var/lib/twofold/db.sqlite');
  });

  it('keeps sqlite::memory: as an in-memory database', () => {
    expect(sqlitePath({ TWOFOLD_DATABASE_URL: 'sqlite::memory:' })).toBe(':memory:');
  });

  it('refuses sqlite: without a path naming TWOFOLD_DATABASE_URL', () => {
    expect(configErrorOf({ TWOFOLD_DATABASE_URL: 'sqlite:' }).variable).toBe('TWOFOLD_DATABASE_URL');
  });

  it('selects PostgreSQL for postgres:// and postgresql:// with pool defaults', () => {
    expect(loadConfig({ TWOFOLD_DATABASE_URL: 'postgres://user:secret@db.example.com/twofold' }).database).toEqual({
      kind: 'postgres',
      url: 'postgres://user:secret@db.example.com/twofold',
      schema: undefined,
      poolMax: 10,
      connectTimeoutMs: 2000,
      queryTimeoutMs: 5000,
    });
    expect(loadConfig({ TWOFOLD_DATABASE_URL: 'postgresql://db/twofold', TWOFOLD_DATABASE_SCHEMA: 'auth', TWOFOLD_DATABASE_POOL_MAX: '25' }).database).toMatchObject({
      kind: 'postgres',
      schema: 'auth',
      poolMax: 25,
    });
  });

  it('refuses a schema name that is not a plain identifier', () => {
    expect(configErrorOf({ TWOFOLD_DATABASE_URL: 'postgres://db/x', TWOFOLD_DATABASE_SCHEMA: 'a"; drop' }).variable).toBe('TWOFOLD_DATABASE_SCHEMA');
  });

  it('reads TWOFOLD_REDIS_URL with its defaults, and refuses other schemes', () => {
    expect(loadConfig({}).redis).toBeUndefined();
    expect(loadConfig({ TWOFOLD_REDIS_URL: 'redis://127.0.0.1:6379/2' }).redis).toEqual({
      url: 'redis://127.0.0.1:6379/2',
      keyPrefix: 'twofold:',
      connectTimeoutMs: 2000,
      commandTimeoutMs: 1000,
    });
    expect(configErrorOf({ TWOFOLD_REDIS_URL: 'http://127.0.0.1:6379' }).variable).toBe('TWOFOLD_REDIS_URL');
  });

  it('RC-05: bounds the in-memory store at 500,000 keys by default; TWOFOLD_MEMORY_STORE_MAX_KEYS sets 1,000..100,000,000', () => {
    expect(loadConfig({}).memoryStore.maxKeys).toBe(500_000);
    expect(loadConfig({ TWOFOLD_MEMORY_STORE_MAX_KEYS: '2000000' }).memoryStore.maxKeys).toBe(2_000_000);
    expect(configErrorOf({ TWOFOLD_MEMORY_STORE_MAX_KEYS: '999' }).variable).toBe('TWOFOLD_MEMORY_STORE_MAX_KEYS');
    expect(configErrorOf({ TWOFOLD_MEMORY_STORE_MAX_KEYS: '1e6' }).variable).toBe('TWOFOLD_MEMORY_STORE_MAX_KEYS');
  });

  it.each([['mysql://db/twofold'], ['/var/lib/twofold.db']])(
    'refuses the unsupported URL %j naming TWOFOLD_DATABASE_URL',
    (url) => {
      const error = configErrorOf({ TWOFOLD_DATABASE_URL: url });
      expect(error.variable).toBe('TWOFOLD_DATABASE_URL');
      expect(error.message).toContain('TWOFOLD_DATABASE_URL');
    },
  );

  it('LOG-01: does not repeat a database password in the error message', () => {
    expect(configErrorOf({ TWOFOLD_DATABASE_URL: 'mysql://user:hunter2@db/twofold' }).message).not.toContain('hunter2');
    expect(configErrorOf({ TWOFOLD_DATABASE_URL: 'postgres://user:hunter2@db:notaport/twofold' }).message).not.toContain('hunter2');
  });
});

describe('loadConfig(): signing algorithm and log level', () => {
  it.each([['HS256'], ['HS512'], ['none'], ['RS256'], ['eddsa']])('JW-03: refuses TWOFOLD_SIGNING_ALG=%s', (alg) => {
    expect(configErrorOf({ TWOFOLD_SIGNING_ALG: alg }).variable).toBe('TWOFOLD_SIGNING_ALG');
  });

  it('refuses an unknown log level naming TWOFOLD_LOG_LEVEL', () => {
    expect(configErrorOf({ TWOFOLD_LOG_LEVEL: 'verbose' }).variable).toBe('TWOFOLD_LOG_LEVEL');
  });
});

describe('loadConfig(): public URL', () => {
  it('drops trailing slashes and keeps a path', () => {
    expect(loadConfig({ TWOFOLD_PUBLIC_URL: 'https://auth.example.com/' }).publicUrl).toBe('https://auth.example.com');
    expect(loadConfig({ TWOFOLD_PUBLIC_URL: 'https://example.com/auth/' }).issuer).toBe('https://example.com/auth');
  });

  it.each([['not a url'], ['ftp://auth.example.com'], ['https://auth.example.com/?x=1'], ['https://auth.example.com/#top']])(
    'refuses TWOFOLD_PUBLIC_URL=%j naming the variable',
    (url) => {
      expect(configErrorOf({ TWOFOLD_PUBLIC_URL: url }).variable).toBe('TWOFOLD_PUBLIC_URL');
    },
  );
});

describe('loadConfig(): every mistake in one run', () => {
  it('production mode with nothing set names every missing setting at once, one line each', () => {
    const error = configErrorOf({ NODE_ENV: 'production', TWOFOLD_DATA_DIR: '/var/lib/twofold' });
    expect(error).toBeInstanceOf(ConfigErrors);
    expect(error.problems.map((problem) => problem.variable)).toEqual(['TWOFOLD_PUBLIC_URL', 'TWOFOLD_ENCRYPTION_KEY', 'TWOFOLD_SMS_PROVIDER', 'TWOFOLD_EMAIL_PROVIDER']);
    expect(error.variable).toBe('TWOFOLD_PUBLIC_URL');
    expect(error.message.split('\n')).toEqual(error.problems.map((problem) => problem.message));
    expect(error.message.split('\n').map((line) => line.split(':')[0])).toEqual(['TWOFOLD_PUBLIC_URL', 'TWOFOLD_ENCRYPTION_KEY', 'TWOFOLD_SMS_PROVIDER', 'TWOFOLD_EMAIL_PROVIDER']);
  });

  it('every production hardening refusal is reported together with malformed values', () => {
    const error = configErrorOf({
      ...completeProduction,
      TWOFOLD_ARGON2_MEMORY_KIB: '1024',
      TWOFOLD_ARGON2_TIME_COST: '1',
      TWOFOLD_THROTTLE_LOCK_FAILURES: '1000',
      TWOFOLD_TRUSTED_PROXIES: '0.0.0.0/0',
      TWOFOLD_CORS_ORIGINS: 'http://app.example.com',
      TWOFOLD_ALLOWED_REDIRECTS: 'http://app.example.com',
      TWOFOLD_METRICS: 'on',
      TWOFOLD_SIGNING_ALG: 'HS256',
      TWOFOLD_LOG_LEVEL: 'loud',
    });
    expect(error.problems.map((problem) => problem.variable).sort()).toEqual(
      [
        'TWOFOLD_SIGNING_ALG',
        'TWOFOLD_LOG_LEVEL',
        'TWOFOLD_ARGON2_MEMORY_KIB',
        'TWOFOLD_ARGON2_TIME_COST',
        'TWOFOLD_METRICS_TOKEN',
        'TWOFOLD_THROTTLE_LOCK_FAILURES',
        'TWOFOLD_TRUSTED_PROXIES',
        'TWOFOLD_CORS_ORIGINS',
        'TWOFOLD_ALLOWED_REDIRECTS',
      ].sort(),
    );
  });

  it('malformed values of several variables are reported together outside production too', () => {
    const error = configErrorOf({ TWOFOLD_PORT: 'abc', TWOFOLD_SIGNING_ALG: 'HS256', TWOFOLD_SMS_PROVIDER: 'webhook', TWOFOLD_NOTIFY: 'webhook', TWOFOLD_NOTIFY_WEBHOOK_URL: 'https://hooks.example.com/x' });
    expect(error.problems.map((problem) => problem.variable)).toEqual([
      'TWOFOLD_PORT',
      'TWOFOLD_SIGNING_ALG',
      // A provider's settings are all named, not one per start.
      'TWOFOLD_SMS_WEBHOOK_URL',
      'TWOFOLD_SMS_WEBHOOK_SECRET',
      'TWOFOLD_NOTIFY_WEBHOOK_SECRET',
    ]);
  });

  it('a value refused by its parser is reported once, not again for the fallback used meanwhile', () => {
    const error = configErrorOf({ ...completeProduction, TWOFOLD_PUBLIC_URL: 'not a url' });
    expect(error).not.toBeInstanceOf(ConfigErrors);
    expect(error.message).toBe('TWOFOLD_PUBLIC_URL: not a URL: "not a url"');
  });

  it('one mistake is a plain ConfigError, as before', () => {
    const error = configErrorOf({ TWOFOLD_PORT: 'abc' });
    expect(error).not.toBeInstanceOf(ConfigErrors);
    expect(error.problems).toEqual([error]);
  });

  it('a malformed TWOFOLD_ENCRYPTION_KEY is reported with the rest, before anything opens the key', () => {
    const error = configErrorOf({ ...completeProduction, TWOFOLD_ENCRYPTION_KEY: 'not-32-bytes', TWOFOLD_PUBLIC_URL: 'http://auth.example.com' });
    expect(error.problems.map((problem) => problem.variable)).toEqual(['TWOFOLD_ENCRYPTION_KEY', 'TWOFOLD_PUBLIC_URL']);
    expect(error.message).not.toContain('not-32-bytes');
  });
});

describe('loadConfig(): production mode', () => {
  it('HT-01: refuses a non-https TWOFOLD_PUBLIC_URL', () => {
    const error = configErrorOf({ ...completeProduction, TWOFOLD_PUBLIC_URL: 'http://auth.example.com' });
    expect(error.variable).toBe('TWOFOLD_PUBLIC_URL');
    expect(error.message).toContain('TWOFOLD_PUBLIC_URL');
  });

  it('HT-01: refuses the default http://localhost public URL', () => {
    const { TWOFOLD_PUBLIC_URL: _url, ...withoutUrl } = completeProduction;
    expect(configErrorOf(withoutUrl).variable).toBe('TWOFOLD_PUBLIC_URL');
  });

  it('refuses a missing TWOFOLD_ENCRYPTION_KEY', () => {
    const { TWOFOLD_ENCRYPTION_KEY: _key, ...withoutKey } = completeProduction;
    const error = configErrorOf(withoutKey);
    expect(error.variable).toBe('TWOFOLD_ENCRYPTION_KEY');
    expect(error.message).toContain('TWOFOLD_ENCRYPTION_KEY');
    expect(configErrorOf({ ...completeProduction, TWOFOLD_ENCRYPTION_KEY: '  ' }).variable).toBe('TWOFOLD_ENCRYPTION_KEY');
  });

  it('OB-01: refuses to put SMS codes in an outbox, naming the provider variable and the way out', () => {
    const { TWOFOLD_SMS_PROVIDER: _provider, ...withOutbox } = completeProduction;
    const error = configErrorOf(withOutbox);
    expect(error.variable).toBe('TWOFOLD_SMS_PROVIDER');
    expect(error.message).toBe(
      'TWOFOLD_SMS_PROVIDER: production mode sends nothing to the development outbox, where nobody would receive it, but with TWOFOLD_SMS_PROVIDER=outbox ' +
        'SMS sign-in codes (sms in TWOFOLD_FACTORS) and password-reset codes to verified phones (TWOFOLD_PASSWORD_RESET) would go there. ' +
        'Set TWOFOLD_SMS_PROVIDER=twilio or webhook, or remove sms from TWOFOLD_FACTORS.',
    );
    // Without the SMS factor no text message is sent at all — reset codes included.
    expect(loadConfig({ ...withOutbox, TWOFOLD_FACTORS: 'totp,webauthn,recovery' }).factors.has('sms')).toBe(false);
    expect(configErrorOf({ ...withOutbox, TWOFOLD_PASSWORD_RESET: 'email' }).message).not.toContain('password-reset');
  });

  it('OB-01: refuses e-mail codes, reset codes and notices in an outbox, each named with its way out', () => {
    const { TWOFOLD_EMAIL_PROVIDER: _provider, TWOFOLD_SMTP_URL: _url, ...withOutbox } = completeProduction;
    const everything = configErrorOf({ ...withOutbox, TWOFOLD_FACTORS: 'totp,sms,email' });
    expect(everything.variable).toBe('TWOFOLD_EMAIL_PROVIDER');
    expect(everything.message).toBe(
      'TWOFOLD_EMAIL_PROVIDER: production mode sends nothing to the development outbox, where nobody would receive it, but with TWOFOLD_EMAIL_PROVIDER=outbox ' +
        'e-mail sign-in codes (email in TWOFOLD_FACTORS), password-reset codes (TWOFOLD_PASSWORD_RESET) and security notices (TWOFOLD_NOTIFY=email, the default) would go there. ' +
        'Set TWOFOLD_EMAIL_PROVIDER=smtp and TWOFOLD_SMTP_URL, or do without e-mail: remove email from TWOFOLD_FACTORS; TWOFOLD_PASSWORD_RESET=sms (text messages only) or off; TWOFOLD_NOTIFY=webhook or off.',
    );
    // Each use alone is refused too, naming what to set and what to turn off.
    const resetOnly = configErrorOf({ ...withOutbox, TWOFOLD_NOTIFY: 'off' });
    expect(resetOnly.variable).toBe('TWOFOLD_EMAIL_PROVIDER');
    expect(resetOnly.message).toContain('password-reset codes (TWOFOLD_PASSWORD_RESET) would go there');
    expect(resetOnly.message).toContain('do without e-mail: TWOFOLD_PASSWORD_RESET=sms (text messages only) or off.');
    const noticesOnly = configErrorOf({ ...withOutbox, TWOFOLD_PASSWORD_RESET: 'sms' });
    expect(noticesOnly.variable).toBe('TWOFOLD_EMAIL_PROVIDER');
    expect(noticesOnly.message).toContain('security notices (TWOFOLD_NOTIFY=email, the default) would go there');
    expect(noticesOnly.message).toContain('TWOFOLD_NOTIFY=webhook or off.');
    // Without an SMS factor, SMS is not offered as the way out of e-mailed reset codes.
    expect(configErrorOf({ ...withOutbox, TWOFOLD_FACTORS: 'totp', TWOFOLD_NOTIFY: 'off' }).message).toContain('do without e-mail: TWOFOLD_PASSWORD_RESET=off.');
  });

  it('OB-01: starts without SMTP or an SMS gateway when every use of them is turned off by name', () => {
    const { TWOFOLD_EMAIL_PROVIDER: _email, TWOFOLD_SMTP_URL: _url, TWOFOLD_SMS_PROVIDER: _sms, TWOFOLD_SMS_WEBHOOK_URL: _hook, TWOFOLD_SMS_WEBHOOK_SECRET: _secret, ...bare } = completeProduction;
    const config = loadConfig({ ...bare, TWOFOLD_FACTORS: 'totp,webauthn,recovery', TWOFOLD_PASSWORD_RESET: 'off', TWOFOLD_NOTIFY: 'off' });
    expect(config.passwordResetChannels).toEqual([]);
    expect(config.notifications).toEqual({ channel: 'off' });
    expect(config.sms.provider).toBe('outbox');
    // Each one left on is refused alone.
    expect(configErrorOf({ ...bare, TWOFOLD_FACTORS: 'totp,webauthn,recovery', TWOFOLD_NOTIFY: 'off' }).variable).toBe('TWOFOLD_EMAIL_PROVIDER');
    expect(configErrorOf({ ...bare, TWOFOLD_FACTORS: 'totp,webauthn,recovery', TWOFOLD_PASSWORD_RESET: 'off' }).variable).toBe('TWOFOLD_EMAIL_PROVIDER');
    expect(configErrorOf({ ...bare, TWOFOLD_PASSWORD_RESET: 'off', TWOFOLD_NOTIFY: 'off' }).variable).toBe('TWOFOLD_SMS_PROVIDER');
    expect(configErrorOf({ ...bare, TWOFOLD_FACTORS: 'totp,email', TWOFOLD_PASSWORD_RESET: 'off', TWOFOLD_NOTIFY: 'off' }).variable).toBe('TWOFOLD_EMAIL_PROVIDER');
  });

  it('OB-01: starts when each use has its provider: SMS by webhook or Twilio, e-mail by SMTP, notices by webhook', () => {
    const { TWOFOLD_EMAIL_PROVIDER: _email, TWOFOLD_SMTP_URL: _url, ...smsOnly } = completeProduction;
    // Reset codes by text message only, notices to a webhook: no e-mail at all.
    const config = loadConfig({
      ...smsOnly,
      TWOFOLD_PASSWORD_RESET: 'sms',
      TWOFOLD_NOTIFY: 'webhook',
      TWOFOLD_NOTIFY_WEBHOOK_URL: 'https://hooks.example.com/twofold',
      TWOFOLD_NOTIFY_WEBHOOK_SECRET: 'sixteen-chars-at-least',
    });
    expect(config.passwordResetChannels).toEqual(['sms']);
    expect(config.email.provider).toBe('outbox');
    const twilio = loadConfig({
      ...completeProduction,
      TWOFOLD_SMS_PROVIDER: 'twilio',
      TWOFOLD_TWILIO_ACCOUNT_SID: 'AC123',
      TWOFOLD_TWILIO_AUTH_TOKEN: 'token',
      TWOFOLD_TWILIO_FROM: '+15005550006',
      TWOFOLD_FACTORS: 'totp,sms,email,webauthn,recovery',
    });
    expect(twilio.sms.provider).toBe('twilio');
    expect(twilio.email.provider).toBe('smtp');
    expect(twilio.factors.has('email')).toBe(true);
  });

  it('OB-01: development and test modes keep the outbox for everything, so `npm start` needs no setting', () => {
    for (const mode of ['development', 'test', undefined]) {
      const config = loadConfig(mode === undefined ? {} : { NODE_ENV: mode, TWOFOLD_FACTORS: 'totp,sms,email' });
      expect([config.sms.provider, config.email.provider, config.notifications.channel]).toEqual(['outbox', 'outbox', 'email']);
      expect(config.passwordResetChannels).toEqual(['email', 'sms']);
    }
  });

  it('PW-08: refuses argon2 memory below 19456 KiB', () => {
    const error = configErrorOf({ ...completeProduction, TWOFOLD_ARGON2_MEMORY_KIB: '19455' });
    expect(error.variable).toBe('TWOFOLD_ARGON2_MEMORY_KIB');
    expect(error.message).toContain('TWOFOLD_ARGON2_MEMORY_KIB');
  });

  it('PW-08: accepts argon2 memory of 19456 KiB and more', () => {
    expect(loadConfig({ ...completeProduction, TWOFOLD_ARGON2_MEMORY_KIB: '19456' }).password.argon2.memoryKib).toBe(19456);
    expect(loadConfig({ ...completeProduction, TWOFOLD_ARGON2_MEMORY_KIB: '65536' }).password.argon2.memoryKib).toBe(65536);
  });

  it('accepts a complete production configuration', () => {
    const config = loadConfig(completeProduction);
    expect(config.mode).toBe('production');
    expect(config.publicUrl).toBe('https://auth.example.com');
    expect(config.issuer).toBe('https://auth.example.com');
    expect(config.encryptionKey).toBe(productionKey);
    expect(config.database).toEqual({ kind: 'sqlite', path: '/var/lib/twofold/twofold.db' });
    expect(config.password.argon2).toEqual({ memoryKib: 19456, timeCost: 2, parallelism: 1 });
  });

  it('development mode allows cheap argon2 parameters and an http URL', () => {
    const config = loadConfig({ TWOFOLD_ARGON2_MEMORY_KIB: '1024', TWOFOLD_PUBLIC_URL: 'http://127.0.0.1:8080' });
    expect(config.password.argon2.memoryKib).toBe(1024);
    expect(config.publicUrl).toBe('http://127.0.0.1:8080');
  });
});

describe('loadConfig(): development conveniences production refuses', () => {
  it('PW-08: refuses one argon2id pass below 46 MiB (OWASP pairs 19 MiB with t=2), naming TWOFOLD_ARGON2_TIME_COST', () => {
    const error = configErrorOf({ ...completeProduction, TWOFOLD_ARGON2_TIME_COST: '1' });
    expect(error.variable).toBe('TWOFOLD_ARGON2_TIME_COST');
    expect(error.message).toContain('TWOFOLD_ARGON2_TIME_COST=2');
    expect(loadConfig({ ...completeProduction, TWOFOLD_ARGON2_TIME_COST: '1', TWOFOLD_ARGON2_MEMORY_KIB: '47104' }).password.argon2).toEqual({ memoryKib: 47104, timeCost: 1, parallelism: 1 });
    expect(loadConfig({ TWOFOLD_ARGON2_TIME_COST: '1', TWOFOLD_ARGON2_MEMORY_KIB: '1024' }).password.argon2.timeCost).toBe(1);
  });

  it('LG-04: refuses a lock threshold above 100 consecutive failures (NIST SP 800-63B), which the tests raise out of the way', () => {
    const error = configErrorOf({ ...completeProduction, TWOFOLD_THROTTLE_LOCK_FAILURES: '100000' });
    expect(error.variable).toBe('TWOFOLD_THROTTLE_LOCK_FAILURES');
    expect(error.message).toContain('at most 100');
    expect(loadConfig({ ...completeProduction, TWOFOLD_THROTTLE_LOCK_FAILURES: '100' }).throttle.lockFailures).toBe(100);
    expect(loadConfig({ TWOFOLD_THROTTLE_LOCK_FAILURES: '100000' }).throttle.lockFailures).toBe(100000);
  });

  it.each([
    ['TWOFOLD_SMS_WEBHOOK_URL', { TWOFOLD_SMS_PROVIDER: 'webhook', TWOFOLD_SMS_WEBHOOK_URL: 'http://sms.example.com/send', TWOFOLD_SMS_WEBHOOK_SECRET: 'a-webhook-secret-of-some-length' }],
    ['TWOFOLD_TWILIO_API_URL', { TWOFOLD_SMS_PROVIDER: 'twilio', TWOFOLD_TWILIO_ACCOUNT_SID: 'AC1', TWOFOLD_TWILIO_AUTH_TOKEN: 'token', TWOFOLD_TWILIO_FROM: '+15005550006', TWOFOLD_TWILIO_API_URL: 'http://twilio.example.com' }],
    ['TWOFOLD_NOTIFY_WEBHOOK_URL', { TWOFOLD_NOTIFY: 'webhook', TWOFOLD_NOTIFY_WEBHOOK_URL: 'http://hooks.example.com/twofold', TWOFOLD_NOTIFY_WEBHOOK_SECRET: 'sixteen-chars-at-least' }],
  ])('OB-01/LOG-01: refuses %s on plain http: codes, tokens or personal data would cross the network in clear', (variable, env) => {
    const error = configErrorOf({ ...completeProduction, ...env });
    expect(error.variable).toBe(variable);
    expect(error.message).toContain('use an https:// URL');
    // A sidecar on this machine may listen on plain http; development allows anything.
    const local = Object.fromEntries(Object.entries(env).map(([name, value]) => [name, name === variable ? 'http://127.0.0.1:8080/hook' : value]));
    expect(() => loadConfig({ ...completeProduction, ...local })).not.toThrow();
    expect(() => loadConfig(env)).not.toThrow();
  });

  it('LOG-01: does not repeat a webhook URL it cannot read (it may hold a token), but does repeat an origin', () => {
    const error = configErrorOf({ TWOFOLD_NOTIFY: 'webhook', TWOFOLD_NOTIFY_WEBHOOK_URL: 'htps://hooks.example.com/T000/B000/secret-path-token', TWOFOLD_NOTIFY_WEBHOOK_SECRET: 'sixteen-chars-at-least' });
    expect(error.variable).toBe('TWOFOLD_NOTIFY_WEBHOOK_URL');
    expect(error.message).not.toContain('secret-path-token');
    expect(configErrorOf({ TWOFOLD_CORS_ORIGINS: 'ftp://app.example.com' }).message).toContain('ftp://app.example.com');
  });

  it('LG-05: refuses trusting every address as a proxy (any client could pick the IP it is counted under)', () => {
    for (const everyone of ['0.0.0.0/0', '::/0', '10.0.0.0/8, 0.0.0.0/0']) {
      const error = configErrorOf({ ...completeProduction, TWOFOLD_TRUSTED_PROXIES: everyone });
      expect(error.variable).toBe('TWOFOLD_TRUSTED_PROXIES');
      expect(error.message).toContain('/0');
    }
    expect(loadConfig({ ...completeProduction, TWOFOLD_TRUSTED_PROXIES: '10.0.0.0/8, fd00::/8' }).http.trustedProxies).toEqual(['10.0.0.0/8', 'fd00::/8']);
  });

  it.each([['TWOFOLD_CORS_ORIGINS'], ['TWOFOLD_ALLOWED_REDIRECTS'], ['TWOFOLD_WEBAUTHN_ORIGINS']])('HT-01: refuses plain-http origins in %s (anyone on the path can rewrite such a page)', (variable) => {
    const error = configErrorOf({ ...completeProduction, [variable]: 'https://app.example.com, http://app.example.com' });
    expect(error.variable).toBe(variable);
    expect(error.message).toContain('http://app.example.com');
    expect(() => loadConfig({ ...completeProduction, [variable]: 'https://app.example.com, http://localhost:5173' })).not.toThrow();
    expect(() => loadConfig({ [variable]: 'http://app.example.com' })).not.toThrow();
  });
});

describe('ConfigError', () => {
  it('is an Error named ConfigError carrying the variable', () => {
    const error = new ConfigError('TWOFOLD_PORT', 'bad');
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('ConfigError');
    expect(error.variable).toBe('TWOFOLD_PORT');
    expect(error.message).toBe('TWOFOLD_PORT: bad');
  });
});

describe('loadConfig(): factors and delivery', () => {
  it('enables totp, sms, webauthn and recovery codes by default; e-mail codes are off', () => {
    expect([...loadConfig({}).factors].sort()).toEqual(['recovery', 'sms', 'totp', 'webauthn']);
    expect(loadConfig({ TWOFOLD_FACTORS: 'totp, email ,recovery' }).factors.has('email')).toBe(true);
  });

  it('refuses an unknown factor, and a list with no real second factor', () => {
    expect(configErrorOf({ TWOFOLD_FACTORS: 'totp,fax' }).variable).toBe('TWOFOLD_FACTORS');
    expect(configErrorOf({ TWOFOLD_FACTORS: 'email,recovery' }).variable).toBe('TWOFOLD_FACTORS');
  });

  it('defaults to the outbox for SMS and e-mail, and reads the webhook provider', () => {
    const config = loadConfig({});
    expect(config.sms).toEqual({ provider: 'outbox' });
    expect(config.email).toEqual({ provider: 'outbox', from: 'Twofold <no-reply@localhost>' });
    expect(loadConfig({ TWOFOLD_SMS_PROVIDER: 'webhook', TWOFOLD_SMS_WEBHOOK_URL: 'https://sms.example.com/hook', TWOFOLD_SMS_WEBHOOK_SECRET: 's'.repeat(32) }).sms).toEqual({
      provider: 'webhook',
      url: 'https://sms.example.com/hook',
      secret: 's'.repeat(32),
      timeoutMs: 5000,
    });
  });

  it('names the missing variable of an incomplete provider', () => {
    expect(configErrorOf({ TWOFOLD_SMS_PROVIDER: 'webhook', TWOFOLD_SMS_WEBHOOK_SECRET: 's'.repeat(32) }).variable).toBe('TWOFOLD_SMS_WEBHOOK_URL');
    expect(configErrorOf({ TWOFOLD_SMS_PROVIDER: 'webhook', TWOFOLD_SMS_WEBHOOK_URL: 'https://x.example' }).variable).toBe('TWOFOLD_SMS_WEBHOOK_SECRET');
    expect(configErrorOf({ TWOFOLD_SMS_PROVIDER: 'twilio', TWOFOLD_TWILIO_ACCOUNT_SID: 'AC1', TWOFOLD_TWILIO_AUTH_TOKEN: 't' }).variable).toBe('TWOFOLD_TWILIO_FROM');
    expect(configErrorOf({ TWOFOLD_SMS_PROVIDER: 'twilio', TWOFOLD_TWILIO_FROM: '+15005550006', TWOFOLD_TWILIO_AUTH_TOKEN: 't' }).variable).toBe('TWOFOLD_TWILIO_ACCOUNT_SID');
    expect(configErrorOf({ TWOFOLD_EMAIL_PROVIDER: 'smtp' }).variable).toBe('TWOFOLD_SMTP_URL');
    expect(configErrorOf({ TWOFOLD_EMAIL_PROVIDER: 'smtp', TWOFOLD_SMTP_URL: 'http://mail' }).variable).toBe('TWOFOLD_SMTP_URL');
    expect(configErrorOf({ TWOFOLD_SMS_PROVIDER: 'carrier-pigeon' }).variable).toBe('TWOFOLD_SMS_PROVIDER');
  });

  it('reads Twilio with the public API by default', () => {
    const sms = loadConfig({ TWOFOLD_SMS_PROVIDER: 'twilio', TWOFOLD_TWILIO_ACCOUNT_SID: 'AC123', TWOFOLD_TWILIO_AUTH_TOKEN: 'token', TWOFOLD_TWILIO_FROM: '+15005550006' }).sms;
    expect(sms).toMatchObject({ provider: 'twilio', accountSid: 'AC123', from: '+15005550006', apiUrl: 'https://api.twilio.com' });
  });

  it('takes the WebAuthn relying party from the public URL, with extra origins allowed', () => {
    expect(loadConfig({ TWOFOLD_PUBLIC_URL: 'https://auth.example.com/base' }).webauthn).toEqual({ rpId: 'auth.example.com', rpName: 'Twofold', origins: ['https://auth.example.com'], attestationRoots: [], passkeyWithoutUv: 'refuse', signInChallengesPerClient: 300 });
    const config = loadConfig({ TWOFOLD_PUBLIC_URL: 'https://auth.example.com', TWOFOLD_WEBAUTHN_RP_ID: 'example.com', TWOFOLD_WEBAUTHN_ORIGINS: 'https://app.example.com/, https://www.example.com' });
    expect(config.webauthn).toEqual({ rpId: 'example.com', rpName: 'Twofold', origins: ['https://auth.example.com', 'https://app.example.com', 'https://www.example.com'], attestationRoots: [], passkeyWithoutUv: 'refuse', signInChallengesPerClient: 300 });
  });
});

describe('loadConfig(): passkey attestation roots (TWOFOLD_WEBAUTHN_ATTESTATION_ROOTS)', () => {
  let pki: TestPki;
  let first: TestCertificateAuthority;
  let second: TestCertificateAuthority;
  beforeAll(() => {
    pki = createTestPki();
    first = pki.root('First Vendor Root');
    second = pki.root('Second Vendor Root');
  });
  afterAll(() => pki.close());
  const roots = (value: string) => loadConfig({ TWOFOLD_WEBAUTHN_ATTESTATION_ROOTS: value }).webauthn.attestationRoots;
  const fingerprintOf = (pem: string) => new X509Certificate(pem).fingerprint256;

  it('JW-11: none by default: attestation is not requested and every passkey is swk', () => {
    expect(loadConfig({}).webauthn.attestationRoots).toEqual([]);
    expect(roots(' , ')).toEqual([]);
  });

  it('JW-11: reads comma-separated PEM files, several certificates per file, each root once', () => {
    const bundle = pki.writeFile('bundle.pem', `Vendor roots\n${first.certificate.pem}\n# and\n${second.certificate.pem}`);
    const loaded = roots(` ${first.certificatePath} , ${bundle} `);
    expect(loaded.map(fingerprintOf)).toEqual([fingerprintOf(first.certificate.pem), fingerprintOf(second.certificate.pem)]);
    for (const pem of loaded) expect(pem).toMatch(/^-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----\n$/);
  });

  it('JW-11: a missing or unreadable file stops the start, naming the variable and the file', () => {
    const missing = configErrorOf({ TWOFOLD_WEBAUTHN_ATTESTATION_ROOTS: `${first.certificatePath},/nonexistent/yubico-root.pem` });
    expect(missing.variable).toBe('TWOFOLD_WEBAUTHN_ATTESTATION_ROOTS');
    expect(missing.message).toMatch(/^TWOFOLD_WEBAUTHN_ATTESTATION_ROOTS: cannot read \/nonexistent\/yubico-root\.pem \(ENOENT\)/);
    expect(configErrorOf({ TWOFOLD_WEBAUTHN_ATTESTATION_ROOTS: tmpdir() }).message).toMatch(/cannot read .* \(EISDIR\)/);
  });

  it('JW-11: a file holding no certificate stops the start (an empty file, plain text, a private key)', () => {
    for (const content of ['', 'not a certificate', '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n']) {
      const path = pki.writeFile('empty.pem', content);
      const error = configErrorOf({ TWOFOLD_WEBAUTHN_ATTESTATION_ROOTS: path });
      expect(error.variable).toBe('TWOFOLD_WEBAUTHN_ATTESTATION_ROOTS');
      expect(error.message).toContain(`${path} holds no PEM certificate`);
    }
  });

  it('JW-11: a damaged certificate, or one that is not a CA, stops the start and says which', () => {
    const body = first.certificate.pem.split('\n').slice(1, -2).join('');
    const damaged = pki.writeFile('damaged.pem', `${second.certificate.pem}-----BEGIN CERTIFICATE-----\n${body.slice(0, 200)}\n-----END CERTIFICATE-----\n`);
    expect(configErrorOf({ TWOFOLD_WEBAUTHN_ATTESTATION_ROOTS: damaged }).message).toContain(`certificate 2 in ${damaged} is not a valid X.509 certificate`);
    const leaf = pki.writeFile('leaf.pem', new X509Certificate(first.issueAttestation().certificates[0]!).toString());
    const error = configErrorOf({ TWOFOLD_WEBAUTHN_ATTESTATION_ROOTS: leaf });
    expect(error.variable).toBe('TWOFOLD_WEBAUTHN_ATTESTATION_ROOTS');
    expect(error.message).toMatch(/certificate 1 in .* \(.*Authenticator Attestation.*\) is not a CA certificate/);
  });
});

describe('loadConfig(): hosted pages', () => {
  it('serves the pages by default, with no redirect origin allowed', () => {
    expect(loadConfig({}).pages).toEqual({ enabled: true, allowedRedirectOrigins: [] });
    expect(loadConfig({ TWOFOLD_PAGES: 'false' }).pages.enabled).toBe(false);
    expect(configErrorOf({ TWOFOLD_PAGES: 'maybe' }).variable).toBe('TWOFOLD_PAGES');
  });

  it('reads TWOFOLD_ALLOWED_REDIRECTS as exact origins, refusing paths', () => {
    expect(loadConfig({ TWOFOLD_ALLOWED_REDIRECTS: 'https://app.example.com, http://localhost:5173/' }).pages.allowedRedirectOrigins).toEqual(['https://app.example.com', 'http://localhost:5173']);
    expect(configErrorOf({ TWOFOLD_ALLOWED_REDIRECTS: 'https://app.example.com/callback' }).variable).toBe('TWOFOLD_ALLOWED_REDIRECTS');
    expect(configErrorOf({ TWOFOLD_ALLOWED_REDIRECTS: 'javascript:alert(1)' }).variable).toBe('TWOFOLD_ALLOWED_REDIRECTS');
  });
});

describe('loadConfig(): hardening settings', () => {
  it('LG-04: locks at 100 failures, allows 100 failures per IP window, and trusts no proxy by default', () => {
    const config = loadConfig({});
    expect(config.throttle.lockFailures).toBe(100);
    expect(config.throttle.ipFailuresPerWindow).toBe(100);
    expect(config.http.trustedProxies).toEqual([]);
    expect(loadConfig({ TWOFOLD_THROTTLE_LOCK_FAILURES: '50', TWOFOLD_THROTTLE_IP_FAILURES: '500' }).throttle).toMatchObject({ lockFailures: 50, ipFailuresPerWindow: 500 });
  });

  it('RC-02: counts IPv6 clients per /64 by default; TWOFOLD_THROTTLE_IPV6_PREFIX sets 32..128', () => {
    expect(loadConfig({}).throttle.ipv6PrefixBits).toBe(64);
    expect(loadConfig({ TWOFOLD_THROTTLE_IPV6_PREFIX: '56' }).throttle.ipv6PrefixBits).toBe(56);
    expect(() => loadConfig({ TWOFOLD_THROTTLE_IPV6_PREFIX: '16' })).toThrow(/TWOFOLD_THROTTLE_IPV6_PREFIX: expected 32\.\.128/);
  });

  it('LG-05/06: reads TWOFOLD_TRUSTED_PROXIES as addresses and CIDR ranges, refusing anything else', () => {
    expect(loadConfig({ TWOFOLD_TRUSTED_PROXIES: '10.0.0.0/8, 127.0.0.1,::1, fd00::/8' }).http.trustedProxies).toEqual(['10.0.0.0/8', '127.0.0.1', '::1', 'fd00::/8']);
    for (const bad of ['*', 'true', '10.0.0.0/33', 'example.com', '10.0.0.1/8/2', '::1/129']) {
      expect(configErrorOf({ TWOFOLD_TRUSTED_PROXIES: bad }).variable).toBe('TWOFOLD_TRUSTED_PROXIES');
    }
  });

  it('has CORS off by default and reads an allow-list of exact origins', () => {
    expect(loadConfig({}).http.corsOrigins).toEqual([]);
    expect(loadConfig({ TWOFOLD_CORS_ORIGINS: 'https://app.example.com,https://admin.example.com/' }).http.corsOrigins).toEqual(['https://app.example.com', 'https://admin.example.com']);
    expect(configErrorOf({ TWOFOLD_CORS_ORIGINS: '*' }).variable).toBe('TWOFOLD_CORS_ORIGINS');
  });

  it('MG-02: defaults to 30-day trusted devices, 15-minute reset tokens and a 365-day audit retention', () => {
    const config = loadConfig({});
    expect(config.trustedDeviceDays).toBe(30);
    expect(config.passwordResetTtlSeconds).toBe(900);
    expect(config.audit.retentionDays).toBe(365);
    expect(loadConfig({ TWOFOLD_TRUSTED_DEVICE_DAYS: '0' }).trustedDeviceDays).toBe(0);
    expect(configErrorOf({ TWOFOLD_PASSWORD_RESET_TTL_SECONDS: '86400' }).variable).toBe('TWOFOLD_PASSWORD_RESET_TTL_SECONDS');
  });

  it('bounded growth: 100 sessions a user, 1,000 events a user in each capped group, 60 s coalescing, upkeep every minute', () => {
    const config = loadConfig({});
    expect(config.sessions.maxPerUser).toBe(100);
    expect(config.audit).toEqual({ retentionDays: 365, maxEventsPerUser: 1000, coalesceSeconds: 60 });
    expect(config.maintenanceIntervalSeconds).toBe(60);
    const tuned = loadConfig({ TWOFOLD_SESSIONS_PER_USER: '5', TWOFOLD_AUDIT_EVENTS_PER_USER: '0', TWOFOLD_AUDIT_COALESCE_SECONDS: '0', TWOFOLD_MAINTENANCE_INTERVAL_SECONDS: '5' });
    expect([tuned.sessions.maxPerUser, tuned.audit.maxEventsPerUser, tuned.audit.coalesceSeconds, tuned.maintenanceIntervalSeconds]).toEqual([5, 0, 0, 5]);
    expect(configErrorOf({ TWOFOLD_SESSIONS_PER_USER: '0' }).variable).toBe('TWOFOLD_SESSIONS_PER_USER');
    expect(configErrorOf({ TWOFOLD_AUDIT_EVENTS_PER_USER: '-1' }).variable).toBe('TWOFOLD_AUDIT_EVENTS_PER_USER');
  });

  it('MG-02: sends reset codes by e-mail or SMS by default; TWOFOLD_PASSWORD_RESET narrows that or turns reset off', () => {
    expect(loadConfig({}).passwordResetChannels).toEqual(['email', 'sms']);
    expect(loadConfig({ TWOFOLD_PASSWORD_RESET: 'sms' }).passwordResetChannels).toEqual(['sms']);
    expect(loadConfig({ TWOFOLD_PASSWORD_RESET: ' email ' }).passwordResetChannels).toEqual(['email']);
    expect(loadConfig({ TWOFOLD_PASSWORD_RESET: 'sms,email,sms' }).passwordResetChannels).toEqual(['sms', 'email']);
    expect(loadConfig({ TWOFOLD_PASSWORD_RESET: 'OFF' }).passwordResetChannels).toEqual([]);
    for (const bad of ['none', 'email,fax', ',', 'off,email']) expect(configErrorOf({ TWOFOLD_PASSWORD_RESET: bad }).variable).toBe('TWOFOLD_PASSWORD_RESET');
  });

  it('notifies by e-mail by default; a webhook needs a URL and a long enough secret', () => {
    expect(loadConfig({}).notifications).toEqual({ channel: 'email' });
    expect(loadConfig({ TWOFOLD_NOTIFY: 'off' }).notifications).toEqual({ channel: 'off' });
    expect(loadConfig({ TWOFOLD_NOTIFY: 'webhook', TWOFOLD_NOTIFY_WEBHOOK_URL: 'https://hooks.example.com/twofold', TWOFOLD_NOTIFY_WEBHOOK_SECRET: 'sixteen-chars-at-least' }).notifications)
      .toMatchObject({ channel: 'webhook', url: 'https://hooks.example.com/twofold', secret: 'sixteen-chars-at-least' });
    expect(configErrorOf({ TWOFOLD_NOTIFY: 'webhook', TWOFOLD_NOTIFY_WEBHOOK_SECRET: 'sixteen-chars-at-least' }).variable).toBe('TWOFOLD_NOTIFY_WEBHOOK_URL');
    expect(configErrorOf({ TWOFOLD_NOTIFY: 'webhook', TWOFOLD_NOTIFY_WEBHOOK_URL: 'https://hooks.example.com', TWOFOLD_NOTIFY_WEBHOOK_SECRET: 'short' }).variable).toBe('TWOFOLD_NOTIFY_WEBHOOK_SECRET');
    expect(configErrorOf({ TWOFOLD_NOTIFY: 'pigeon' }).variable).toBe('TWOFOLD_NOTIFY');
  });
});

describe('loadConfig(): metrics', () => {
  const token = 'a-metrics-token-0123456789';

  it('LOG-01: serves no metrics by default', () => {
    expect(loadConfig({}).metrics).toEqual({ enabled: false, token: undefined });
  });

  it('reads TWOFOLD_METRICS as a switch, refusing other values naming the variable', () => {
    expect(loadConfig({ TWOFOLD_METRICS: 'on' }).metrics).toEqual({ enabled: true, token: undefined });
    expect(loadConfig({ TWOFOLD_METRICS: 'off' }).metrics.enabled).toBe(false);
    expect(configErrorOf({ TWOFOLD_METRICS: 'sometimes' }).variable).toBe('TWOFOLD_METRICS');
  });

  it('a TWOFOLD_METRICS_TOKEN alone turns metrics on behind it; an explicit off wins', () => {
    expect(loadConfig({ TWOFOLD_METRICS_TOKEN: token }).metrics).toEqual({ enabled: true, token });
    expect(loadConfig({ TWOFOLD_METRICS: 'on', TWOFOLD_METRICS_TOKEN: token }).metrics).toEqual({ enabled: true, token });
    expect(loadConfig({ TWOFOLD_METRICS: 'off', TWOFOLD_METRICS_TOKEN: token }).metrics).toEqual({ enabled: false, token: undefined });
  });

  it('refuses a short token, or one a Bearer header cannot carry, without repeating it', () => {
    const short = configErrorOf({ TWOFOLD_METRICS_TOKEN: 'too-short' });
    expect(short.variable).toBe('TWOFOLD_METRICS_TOKEN');
    expect(short.message).not.toContain('too-short');
    const spaced = configErrorOf({ TWOFOLD_METRICS_TOKEN: 'has a space in the middle of it' });
    expect(spaced.variable).toBe('TWOFOLD_METRICS_TOKEN');
    expect(spaced.message).not.toContain('has a space');
  });

  it('LOG-01: production mode refuses metrics without a token, naming TWOFOLD_METRICS_TOKEN', () => {
    const error = configErrorOf({ ...completeProduction, TWOFOLD_METRICS: 'on' });
    expect(error.variable).toBe('TWOFOLD_METRICS_TOKEN');
    // The same length as the refusal of a short token (and the README).
    expect(error.message).toContain('at least 16 characters');
    expect(configErrorOf({ TWOFOLD_METRICS_TOKEN: 'too-short' }).message).toBe('TWOFOLD_METRICS_TOKEN: use at least 16 characters');
    expect(loadConfig({ ...completeProduction, TWOFOLD_METRICS_TOKEN: token }).metrics).toEqual({ enabled: true, token });
    expect(loadConfig(completeProduction).metrics.enabled).toBe(false);
  });
});

describe('loadConfig(): send and request budgets (RC-02)', () => {
  it('RC-02: defaults a small deployment never meets but a pumping script does', () => {
    const config = loadConfig({});
    expect(config.budgets).toEqual({
      sends: { sms: { perClientPerHour: 30, perHour: 1000 }, email: { perClientPerHour: 50, perHour: 5000 } },
      registrationsPerClientPerHour: 50,
      passwordResetsPerClientPerHour: 30,
      passwordResetsPerAccountPerHour: 3,
      verificationMailsPerAddressPerDay: 5,
      noticesPerRecipientPerHour: 10,
    });
    expect(config.emailVerificationTtlSeconds).toBe(86400);
  });

  it('RC-02: reads every budget', () => {
    const config = loadConfig({
      TWOFOLD_SMS_SENDS_PER_CLIENT: '5',
      TWOFOLD_SMS_SENDS_PER_HOUR: '50',
      TWOFOLD_EMAIL_SENDS_PER_CLIENT: '6',
      TWOFOLD_EMAIL_SENDS_PER_HOUR: '60',
      TWOFOLD_REGISTRATIONS_PER_CLIENT: '7',
      TWOFOLD_PASSWORD_RESETS_PER_CLIENT: '8',
      TWOFOLD_PASSWORD_RESETS_PER_ACCOUNT: '2',
      TWOFOLD_EMAIL_VERIFICATIONS_PER_ADDRESS: '3',
      TWOFOLD_NOTICES_PER_RECIPIENT: '4',
      TWOFOLD_EMAIL_VERIFICATION_TTL_SECONDS: '3600',
    });
    expect(config.budgets).toEqual({
      sends: { sms: { perClientPerHour: 5, perHour: 50 }, email: { perClientPerHour: 6, perHour: 60 } },
      registrationsPerClientPerHour: 7,
      passwordResetsPerClientPerHour: 8,
      passwordResetsPerAccountPerHour: 2,
      verificationMailsPerAddressPerDay: 3,
      noticesPerRecipientPerHour: 4,
    });
    expect(config.emailVerificationTtlSeconds).toBe(3600);
  });

  it('RC-02: refuses a budget of 0, a fraction or a negative number, naming the variable', () => {
    for (const variable of ['TWOFOLD_SMS_SENDS_PER_CLIENT', 'TWOFOLD_SMS_SENDS_PER_HOUR', 'TWOFOLD_EMAIL_SENDS_PER_CLIENT', 'TWOFOLD_EMAIL_SENDS_PER_HOUR', 'TWOFOLD_REGISTRATIONS_PER_CLIENT', 'TWOFOLD_PASSWORD_RESETS_PER_CLIENT', 'TWOFOLD_PASSWORD_RESETS_PER_ACCOUNT', 'TWOFOLD_EMAIL_VERIFICATIONS_PER_ADDRESS', 'TWOFOLD_NOTICES_PER_RECIPIENT']) {
      for (const bad of ['0', '1.5', '-3', 'lots']) expect(configErrorOf({ [variable]: bad }).variable).toBe(variable);
    }
    expect(configErrorOf({ TWOFOLD_EMAIL_VERIFICATION_TTL_SECONDS: '60' }).variable).toBe('TWOFOLD_EMAIL_VERIFICATION_TTL_SECONDS');
    expect(configErrorOf({ TWOFOLD_EMAIL_VERIFICATION_TTL_SECONDS: String(30 * 86400) }).variable).toBe('TWOFOLD_EMAIL_VERIFICATION_TTL_SECONDS');
  });

  it('RC-02: refuses a per-client send budget above the global one, naming the per-client variable', () => {
    expect(configErrorOf({ TWOFOLD_SMS_SENDS_PER_CLIENT: '100', TWOFOLD_SMS_SENDS_PER_HOUR: '50' }).variable).toBe('TWOFOLD_SMS_SENDS_PER_CLIENT');
    expect(configErrorOf({ TWOFOLD_EMAIL_SENDS_PER_HOUR: '10' }).variable).toBe('TWOFOLD_EMAIL_SENDS_PER_CLIENT');
    expect(loadConfig({ TWOFOLD_SMS_SENDS_PER_CLIENT: '50', TWOFOLD_SMS_SENDS_PER_HOUR: '50' }).budgets.sends.sms).toEqual({ perClientPerHour: 50, perHour: 50 });
  });
});

describe('forward-auth settings', () => {
  const base = { TWOFOLD_PUBLIC_URL: 'https://auth.example.com' };

  it('FA-17: off by default, with the default header names and no domains', () => {
    const { forwardAuth } = loadConfig(base);
    expect(forwardAuth).toEqual({ enabled: false, rulesFile: undefined, domains: [], headers: { user: 'Remote-User', acr: 'Remote-Acr', amr: 'Remote-Amr', assertion: 'X-Twofold-Assertion' } });
  });

  it('FA-17: on needs a cookie domain and the trusted proxies that will ask', () => {
    expect(configErrorOf({ ...base, TWOFOLD_FORWARD_AUTH: 'on', TWOFOLD_TRUSTED_PROXIES: '127.0.0.1' }).variable).toBe('TWOFOLD_FORWARD_AUTH_COOKIE_DOMAIN');
    expect(configErrorOf({ ...base, TWOFOLD_FORWARD_AUTH: 'on', TWOFOLD_FORWARD_AUTH_COOKIE_DOMAIN: 'example.com' }).variable).toBe('TWOFOLD_TRUSTED_PROXIES');
    expect(configErrorOf({ ...base, TWOFOLD_FORWARD_AUTH: 'maybe' }).message).toContain('expected on or off');
  });

  it('FA-17: each domain gets the public URL as its portal when Twofold is inside it, else the URL given', () => {
    const { forwardAuth } = loadConfig({
      ...base,
      TWOFOLD_FORWARD_AUTH: 'on',
      TWOFOLD_TRUSTED_PROXIES: '10.0.0.0/8',
      TWOFOLD_FORWARD_AUTH_RULES: '/etc/twofold/rules.yaml',
      TWOFOLD_FORWARD_AUTH_COOKIE_DOMAIN: 'Example.com, example.org=https://auth.example.org',
      TWOFOLD_FORWARD_AUTH_HEADERS: 'user:X-User,assertion:X-Signed-Identity',
    });
    expect(forwardAuth.enabled).toBe(true);
    expect(forwardAuth.rulesFile).toBe('/etc/twofold/rules.yaml');
    expect(forwardAuth.domains).toEqual([
      { domain: 'example.com', portalUrl: 'https://auth.example.com' },
      { domain: 'example.org', portalUrl: 'https://auth.example.org' },
    ]);
    expect(forwardAuth.headers).toEqual({ user: 'X-User', acr: 'Remote-Acr', amr: 'Remote-Amr', assertion: 'X-Signed-Identity' });
  });

  it('FA-17: a domain Twofold is not reachable under, overlapping domains and bad header names are refused', () => {
    expect(configErrorOf({ ...base, TWOFOLD_FORWARD_AUTH: 'on', TWOFOLD_TRUSTED_PROXIES: '127.0.0.1', TWOFOLD_FORWARD_AUTH_COOKIE_DOMAIN: 'example.org' }).message).toContain('example.org=https://auth.example.org');
    expect(configErrorOf({ ...base, TWOFOLD_FORWARD_AUTH_COOKIE_DOMAIN: 'example.org=https://auth.example.com' }).variable).toBe('TWOFOLD_FORWARD_AUTH_COOKIE_DOMAIN');
    expect(configErrorOf({ ...base, TWOFOLD_FORWARD_AUTH_COOKIE_DOMAIN: 'example.com,app.example.com' }).message).toContain('overlaps');
    expect(configErrorOf({ ...base, TWOFOLD_FORWARD_AUTH_COOKIE_DOMAIN: 'com' }).message).toContain('parent domain');
    expect(configErrorOf({ ...base, TWOFOLD_FORWARD_AUTH_HEADERS: 'user:Bad Header' }).variable).toBe('TWOFOLD_FORWARD_AUTH_HEADERS');
    expect(configErrorOf({ ...base, TWOFOLD_FORWARD_AUTH_HEADERS: 'group:X-Groups' }).variable).toBe('TWOFOLD_FORWARD_AUTH_HEADERS');
    expect(configErrorOf({ ...base, TWOFOLD_FORWARD_AUTH_HEADERS: 'user:Remote-Acr' }).message).toContain('name of its own');
  });
});
