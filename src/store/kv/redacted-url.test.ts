import { describe, expect, it } from 'vitest';
import { redactedUrl } from './redis.js';

describe('redactedUrl()', () => {
  it('LOG-01: hides the password and every query value, keeping where the server is', () => {
    expect(redactedUrl('redis://:hunter2@cache.internal:6379/2')).toBe('redis://:***@cache.internal:6379/2');
    const postgres = redactedUrl('postgres://twofold:hunter2@db.internal:5432/auth?sslmode=require&password=hunter3');
    expect(postgres).toBe('postgres://twofold:***@db.internal:5432/auth?sslmode=***&password=***');
    expect(postgres).not.toMatch(/hunter/);
    expect(redactedUrl('not a url with hunter2')).toBe('(invalid URL)');
  });
});
