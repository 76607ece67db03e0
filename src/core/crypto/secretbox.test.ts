import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSecretBox, encryptionKeyId, secretBoxAad, SecretBoxError } from './secretbox.js';

const keyA = Buffer.alloc(32, 0xa1);
const keyB = Buffer.alloc(32, 0xb2);
const aad = secretBoxAad('totp', 'fac_1', 'usr_1');
const b64url = /^[A-Za-z0-9_-]*$/;

/** Flips one bit of a base64url segment while keeping it valid base64url of the same length. */
function flipFirstByte(segment: string): string {
  const bytes = Buffer.from(segment, 'base64url');
  bytes[0] = bytes[0]! ^ 0x01;
  return bytes.toString('base64url');
}

function replacePart(envelope: string, index: number, replace: (part: string) => string): string {
  const parts = envelope.split('.');
  parts[index] = replace(parts[index]!);
  return parts.join('.');
}

describe('createSecretBox()', () => {
  it('seal() then open() with the same AAD returns the plaintext', () => {
    const box = createSecretBox([keyA]);
    const plaintext = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
    expect(box.open(box.seal(plaintext, aad), aad)).toBe(plaintext);
  });

  it('round-trips empty, Unicode and long plaintexts', () => {
    const box = createSecretBox([keyA]);
    for (const plaintext of ['', 'ключ 🔑 鍵', 'x'.repeat(100_000)]) {
      expect(box.open(box.seal(plaintext, aad), aad)).toBe(plaintext);
    }
  });

  it('OT-08: the envelope is v1.<kid>.<iv>.<ct>.<tag> in base64url, with a 96-bit IV and a 128-bit tag', () => {
    const box = createSecretBox([keyA]);
    const plaintext = 'twenty bytes secret!';
    const envelope = box.seal(plaintext, aad);
    const parts = envelope.split('.');
    expect(parts).toHaveLength(5);
    const [version, kid, iv, ciphertext, tag] = parts as [string, string, string, string, string];
    expect(version).toBe('v1');
    expect(kid).toBe(encryptionKeyId(keyA));
    expect(kid).toBe(box.currentKeyId);
    for (const part of [kid, iv, ciphertext, tag]) expect(part).toMatch(b64url);
    expect(Buffer.from(iv, 'base64url')).toHaveLength(12);
    expect(Buffer.from(tag, 'base64url')).toHaveLength(16);
    // GCM is a stream mode: the ciphertext is as long as the plaintext, and is not the plaintext.
    expect(Buffer.from(ciphertext, 'base64url')).toHaveLength(Buffer.byteLength(plaintext));
    expect(envelope).not.toContain(Buffer.from(plaintext).toString('base64url'));
  });

  it('uses a fresh IV per seal: two seals of the same plaintext differ and both open', () => {
    const box = createSecretBox([keyA]);
    const first = box.seal('same secret', aad);
    const second = box.seal('same secret', aad);
    expect(first).not.toBe(second);
    expect(first.split('.')[2]).not.toBe(second.split('.')[2]);
    expect(box.open(first, aad)).toBe('same secret');
    expect(box.open(second, aad)).toBe('same secret');
  });

  it('uses distinct IVs across many seals', () => {
    const box = createSecretBox([keyA]);
    const ivs = new Set(Array.from({ length: 1000 }, () => box.seal('x', aad).split('.')[2]));
    expect(ivs.size).toBe(1000);
  });

  it('open() with a wrong AAD (another row) throws SecretBoxError', () => {
    const box = createSecretBox([keyA]);
    const envelope = box.seal('secret', aad);
    expect(() => box.open(envelope, secretBoxAad('totp', 'fac_2', 'usr_1'))).toThrow(SecretBoxError);
    expect(() => box.open(envelope, secretBoxAad('signing-key', 'fac_1', 'usr_1'))).toThrow(SecretBoxError);
    expect(() => box.open(envelope, '')).toThrow(SecretBoxError);
  });

  it('open() of a tampered ciphertext throws SecretBoxError', () => {
    const box = createSecretBox([keyA]);
    const envelope = replacePart(box.seal('secret', aad), 3, flipFirstByte);
    expect(() => box.open(envelope, aad)).toThrow(SecretBoxError);
  });

  it('open() with a tampered tag throws SecretBoxError', () => {
    const box = createSecretBox([keyA]);
    const envelope = replacePart(box.seal('secret', aad), 4, flipFirstByte);
    expect(() => box.open(envelope, aad)).toThrow(SecretBoxError);
  });

  it('open() with a tampered IV throws SecretBoxError', () => {
    const box = createSecretBox([keyA]);
    const envelope = replacePart(box.seal('secret', aad), 2, flipFirstByte);
    expect(() => box.open(envelope, aad)).toThrow(SecretBoxError);
  });

  it('open() with a truncated tag or IV throws SecretBoxError', () => {
    const box = createSecretBox([keyA]);
    const envelope = box.seal('secret', aad);
    expect(() => box.open(replacePart(envelope, 4, (tag) => Buffer.from(tag, 'base64url').subarray(0, 12).toString('base64url')), aad)).toThrow(
      SecretBoxError,
    );
    expect(() => box.open(replacePart(envelope, 2, (iv) => Buffer.from(iv, 'base64url').subarray(0, 8).toString('base64url')), aad)).toThrow(
      SecretBoxError,
    );
  });

  it('open() of an envelope whose key id is unknown throws SecretBoxError naming the key id', () => {
    const envelope = createSecretBox([keyB]).seal('secret', aad);
    const box = createSecretBox([keyA]);
    expect(() => box.open(envelope, aad)).toThrow(SecretBoxError);
    expect(() => box.open(envelope, aad)).toThrow(encryptionKeyId(keyB));
  });

  it('open() of an envelope relabelled with the known key id but sealed by another key throws SecretBoxError', () => {
    const envelope = replacePart(createSecretBox([keyB]).seal('secret', aad), 1, () => encryptionKeyId(keyA));
    expect(() => createSecretBox([keyA]).open(envelope, aad)).toThrow(SecretBoxError);
  });

  it.each([
    ['four parts', (envelope: string) => envelope.split('.').slice(0, 4).join('.')],
    ['six parts', (envelope: string) => `${envelope}.AAAA`],
    ['cut in the middle', (envelope: string) => envelope.slice(0, Math.floor(envelope.length / 2))],
    ['another version', (envelope: string) => envelope.replace(/^v1\./, 'v2.')],
    ['empty', () => ''],
    ['no dots', () => 'garbage'],
  ])('open() of a truncated or malformed envelope (%s) throws SecretBoxError', (_label, mangle) => {
    const box = createSecretBox([keyA]);
    expect(() => box.open(mangle(box.seal('secret', aad)), aad)).toThrow(SecretBoxError);
  });

  it('a box with [newKey, oldKey] opens envelopes of the old key and seals with the new', () => {
    const oldBox = createSecretBox([keyA]);
    const oldEnvelope = oldBox.seal('rotated secret', aad);
    const rotated = createSecretBox([keyB, keyA]);
    expect(rotated.currentKeyId).toBe(encryptionKeyId(keyB));
    expect(rotated.open(oldEnvelope, aad)).toBe('rotated secret');
    const newEnvelope = rotated.seal('rotated secret', aad);
    expect(rotated.keyIdOf(newEnvelope)).toBe(encryptionKeyId(keyB));
    // The old-key-only box cannot open what the new key sealed.
    expect(() => oldBox.open(newEnvelope, aad)).toThrow(SecretBoxError);
  });

  it('keyIdOf() names the sealing key, and is undefined for non-envelopes', () => {
    const box = createSecretBox([keyA]);
    expect(box.keyIdOf(box.seal('secret', aad))).toBe(encryptionKeyId(keyA));
    expect(box.keyIdOf('garbage')).toBeUndefined();
    expect(box.keyIdOf('v2.a.b.c.d')).toBeUndefined();
    expect(box.keyIdOf('v1.a.b.c')).toBeUndefined();
  });

  it.each([[0], [16], [31], [33], [64]])('refuses a key of %i bytes with SecretBoxError', (length) => {
    expect(() => createSecretBox([Buffer.alloc(length, 1)])).toThrow(SecretBoxError);
  });

  it('refuses a wrong-length key anywhere in the list, not only the current one', () => {
    expect(() => createSecretBox([keyA, Buffer.alloc(16, 1)])).toThrow(SecretBoxError);
  });

  it('refuses an empty key list with SecretBoxError', () => {
    expect(() => createSecretBox([])).toThrow(SecretBoxError);
  });
});

describe('encryptionKeyId()', () => {
  it('is a stable 8-character base64url id that differs between keys and does not reveal the key', () => {
    const key = randomBytes(32);
    expect(encryptionKeyId(key)).toMatch(/^[A-Za-z0-9_-]{8}$/);
    expect(encryptionKeyId(Buffer.from(key))).toBe(encryptionKeyId(key));
    expect(encryptionKeyId(keyA)).not.toBe(encryptionKeyId(keyB));
    expect(key.toString('base64url')).not.toContain(encryptionKeyId(key));
  });
});

describe('secretBoxAad()', () => {
  it('joins purpose and ids with "|"', () => {
    expect(secretBoxAad('totp', 'fac_1', 'usr_1')).toBe('totp|fac_1|usr_1');
    expect(secretBoxAad('pepper')).toBe('pepper');
  });
});

describe('SecretBoxError', () => {
  it('is an Error named SecretBoxError, keeping the GCM failure as cause', () => {
    const box = createSecretBox([keyA]);
    const envelope = replacePart(box.seal('secret', aad), 4, flipFirstByte);
    let caught: unknown;
    try {
      box.open(envelope, aad);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(Error);
    expect((caught as SecretBoxError).name).toBe('SecretBoxError');
    expect((caught as SecretBoxError).cause).toBeInstanceOf(Error);
  });
});
