import { readFileSync } from 'node:fs';
import { Secret } from 'otpauth';
import { describe, expect, it } from 'vitest';
import { generateTotpCode, isTotpCodeShape, totpStepAt, verifyTotpCode, type TotpAlgorithm } from './verify.js';

interface Rfc6238Vectors {
  secrets_hex: Record<TotpAlgorithm['algorithm'], string>;
  secrets_base32: Record<TotpAlgorithm['algorithm'], string>;
  totp: Array<{ time: number; algorithm: TotpAlgorithm['algorithm']; digits: number; period: number; code: string }>;
  hotp: { algorithm: 'SHA1'; digits: number; secret_hex: string; codes_by_counter: string[] };
}

const vectors = JSON.parse(readFileSync('/work/shared/vectors/rfc6238.json', 'utf8')) as Rfc6238Vectors;

/** The RFC 6238 SHA-1 seed "12345678901234567890" in base32. */
const rfcSecret = vectors.secrets_base32.SHA1;
const stepMs = 30_000;
/** A moment in the middle of a step, so ±1 step stays well inside neighbouring steps. */
const nowMs = 1_700_000_000_000 - (1_700_000_000_000 % stepMs) + 15_000;
const currentStep = totpStepAt(nowMs);

function codeAt(step: number): string {
  return generateTotpCode(rfcSecret, step);
}

describe('RFC 6238 / RFC 4226 vectors (OT-01)', () => {
  it('reads all 18 TOTP rows and 10 HOTP counters from the shared vector file', () => {
    expect(vectors.totp).toHaveLength(18);
    expect(vectors.hotp.codes_by_counter).toHaveLength(10);
  });

  it('base32 secrets in the vector file are the RFC hex seeds', () => {
    for (const algorithm of ['SHA1', 'SHA256', 'SHA512'] as const) {
      expect(Secret.fromBase32(vectors.secrets_base32[algorithm]).hex.toLowerCase()).toBe(vectors.secrets_hex[algorithm].toLowerCase());
    }
  });

  it.each(vectors.totp.map((row) => [row.time, row.algorithm, row.digits, row.period, row.code] as const))(
    'OT-01: generateTotpCode() at T=%i with %s/%i digits/%is gives RFC 6238 Appendix B %s',
    (time, algorithm, digits, period, code) => {
      const secret = vectors.secrets_base32[algorithm];
      expect(generateTotpCode(secret, Math.floor(time / period), { algorithm, digits })).toBe(code);
    },
  );

  it.each(vectors.hotp.codes_by_counter.map((code, counter) => [counter, code] as const))(
    'OT-01: generateTotpCode() with counter %i gives RFC 4226 Appendix D %s (6-digit SHA-1 default)',
    (counter, code) => {
      const secret = Secret.fromHex(vectors.hotp.secret_hex).base32;
      expect(secret).toBe(rfcSecret);
      expect(generateTotpCode(secret, counter)).toBe(code);
    },
  );

  it('OT-01: verifyTotpCode() accepts the 6-digit form of an Appendix B code at its time (T0 = 0, 30 s)', () => {
    // The 6-digit code is the last 6 digits of the 8-digit one (same truncation, mod 10^6).
    const row = vectors.totp.find((candidate) => candidate.algorithm === 'SHA1' && candidate.time === 1111111109)!;
    const code = row.code.slice(-6);
    expect(verifyTotpCode({ secretBase32: rfcSecret, code, nowMs: row.time * 1000, windowSteps: 0 })).toBe(Math.floor(row.time / 30));
  });
});

describe('totpStepAt()', () => {
  it('counts 30-second steps from the Unix epoch', () => {
    expect(totpStepAt(0)).toBe(0);
    expect(totpStepAt(29_999)).toBe(0);
    expect(totpStepAt(30_000)).toBe(1);
    expect(totpStepAt(59_000)).toBe(1);
    expect(totpStepAt(1_111_111_109_000)).toBe(37_037_036);
  });
});

describe('isTotpCodeShape()', () => {
  it('accepts exactly six ASCII digits, including leading zeros', () => {
    expect(isTotpCodeShape('123456')).toBe(true);
    expect(isTotpCodeShape('000000')).toBe(true);
  });

  it.each([' 123456', '123456 ', '12345', '1234567', '١٢٣٤٥٦', '１２３４５６', '12345a', '', '12 456', '+12345', '12345\n'])(
    'FL-07: refuses the malformed shape %j',
    (code) => {
      expect(isTotpCodeShape(code)).toBe(false);
    },
  );
});

describe('verifyTotpCode()', () => {
  it('OT-03: accepts the code of the current step and returns that step', () => {
    expect(verifyTotpCode({ secretBase32: rfcSecret, code: codeAt(currentStep), nowMs, windowSteps: 1 })).toBe(currentStep);
  });

  it('OT-03: accepts a code one step old and returns the matched step (T-1)', () => {
    expect(verifyTotpCode({ secretBase32: rfcSecret, code: codeAt(currentStep - 1), nowMs, windowSteps: 1 })).toBe(currentStep - 1);
  });

  it('OT-03: accepts a code one step ahead and returns the matched step (T+1)', () => {
    expect(verifyTotpCode({ secretBase32: rfcSecret, code: codeAt(currentStep + 1), nowMs, windowSteps: 1 })).toBe(currentStep + 1);
  });

  it('OT-03: rejects a code two steps old', () => {
    const code = codeAt(currentStep - 2);
    // Guard against a coincidental collision with an in-window code, which would make the test meaningless.
    expect([codeAt(currentStep - 1), codeAt(currentStep), codeAt(currentStep + 1)]).not.toContain(code);
    expect(verifyTotpCode({ secretBase32: rfcSecret, code, nowMs, windowSteps: 1 })).toBeUndefined();
  });

  it('OT-03: rejects a code two steps ahead', () => {
    const code = codeAt(currentStep + 2);
    expect([codeAt(currentStep - 1), codeAt(currentStep), codeAt(currentStep + 1)]).not.toContain(code);
    expect(verifyTotpCode({ secretBase32: rfcSecret, code, nowMs, windowSteps: 1 })).toBeUndefined();
  });

  it('OT-03: verifyTotpCode() accepts only T-1..T+1 across T-2..T+2', () => {
    const accepted = [-2, -1, 0, 1, 2].filter(
      (offset) => verifyTotpCode({ secretBase32: rfcSecret, code: codeAt(currentStep + offset), nowMs, windowSteps: 1 }) !== undefined,
    );
    expect(accepted).toEqual([-1, 0, 1]);
  });

  it('accepts at both edges of the current 30-second step', () => {
    const stepStartMs = currentStep * stepMs;
    const stepEndMs = stepStartMs + stepMs - 1;
    for (const at of [stepStartMs, stepEndMs]) {
      expect(verifyTotpCode({ secretBase32: rfcSecret, code: codeAt(currentStep), nowMs: at, windowSteps: 0 })).toBe(currentStep);
    }
    // One millisecond later the step has moved on; with window 0 the old code is gone.
    expect(verifyTotpCode({ secretBase32: rfcSecret, code: codeAt(currentStep), nowMs: stepEndMs + 1, windowSteps: 0 })).toBeUndefined();
  });

  it('with window 0 accepts only the current step', () => {
    expect(verifyTotpCode({ secretBase32: rfcSecret, code: codeAt(currentStep), nowMs, windowSteps: 0 })).toBe(currentStep);
    expect(verifyTotpCode({ secretBase32: rfcSecret, code: codeAt(currentStep - 1), nowMs, windowSteps: 0 })).toBeUndefined();
    expect(verifyTotpCode({ secretBase32: rfcSecret, code: codeAt(currentStep + 1), nowMs, windowSteps: 0 })).toBeUndefined();
  });

  it('with window 2 accepts T-2 and T+2 (the window is configurable)', () => {
    expect(verifyTotpCode({ secretBase32: rfcSecret, code: codeAt(currentStep - 2), nowMs, windowSteps: 2 })).toBe(currentStep - 2);
    expect(verifyTotpCode({ secretBase32: rfcSecret, code: codeAt(currentStep + 2), nowMs, windowSteps: 2 })).toBe(currentStep + 2);
  });

  it('rejects a code made with another secret', () => {
    const otherSecret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
    const code = generateTotpCode(otherSecret, currentStep);
    expect([codeAt(currentStep - 1), codeAt(currentStep), codeAt(currentStep + 1)]).not.toContain(code);
    expect(verifyTotpCode({ secretBase32: rfcSecret, code, nowMs, windowSteps: 1 })).toBeUndefined();
  });

  it('returns the highest step when one code matches two steps of the window (so a claimed step is never reused)', () => {
    // Found by a one-off search: with this secret, steps 7918 and 7919 share the code 395107.
    const secret = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAACF';
    expect(generateTotpCode(secret, 7918)).toBe('395107');
    expect(generateTotpCode(secret, 7919)).toBe('395107');
    expect(verifyTotpCode({ secretBase32: secret, code: '395107', nowMs: 7918 * stepMs + 1, windowSteps: 1 })).toBe(7919);
    expect(verifyTotpCode({ secretBase32: secret, code: '395107', nowMs: 7919 * stepMs + 1, windowSteps: 1 })).toBe(7919);
    // With only T-1 in reach, the lower step is the match.
    expect(verifyTotpCode({ secretBase32: secret, code: '395107', nowMs: 7917 * stepMs + 1, windowSteps: 1 })).toBe(7918);
  });

  // Each malformed input is built from the real current code, so only its shape is wrong.
  const malformed: Array<[string, (real: string) => string]> = [
    ['leading space " 123456"', (real) => ` ${real}`],
    ['trailing newline', (real) => `${real}\n`],
    ['five digits "12345"', (real) => real.slice(0, 5)],
    ['seven digits "1234567"', (real) => `${real}0`],
    ['Arabic-Indic digits "١٢٣٤٥٦"', (real) => [...real].map((digit) => String.fromCodePoint(0x0660 + Number(digit))).join('')],
    ['full-width digits', (real) => [...real].map((digit) => String.fromCodePoint(0xff10 + Number(digit))).join('')],
    ['a letter "12345a"', (real) => `${real.slice(0, 5)}a`],
    ['the empty string ""', () => ''],
  ];

  it.each(malformed)('FL-07: rejects a code with %s', (_label, build) => {
    const real = codeAt(currentStep);
    expect(verifyTotpCode({ secretBase32: rfcSecret, code: real, nowMs, windowSteps: 1 })).toBe(currentStep);
    expect(verifyTotpCode({ secretBase32: rfcSecret, code: build(real), nowMs, windowSteps: 1 })).toBeUndefined();
  });
});
