// Password hashes brought in from another system (twofold import), in the one stored form
// Twofold keeps them in until their owner signs in and the hash is replaced by argon2id:
//   bcrypt   $2a$ / $2b$ / $2y$ as bcrypt writes it
//   argon2   $argon2id$ / $argon2i$ / $argon2d$ PHC strings
//   scrypt   $scrypt$n=<N>,r=<r>,p=<p>$<salt>$<key>
//   pbkdf2   $pbkdf2-sha1|sha256|sha512$i=<iterations>[,l=<key length>]$<salt>$<key>
// Salt and key are base64 (standard or the PHC "adapted" alphabet, padding optional), as the
// PHC string format and Auth0's custom password hashes write them.
// The cost parameters are read here so they can be capped (imported-hash-caps.ts) before a single
// iteration runs: a hash from a file is attacker-shaped input, and a bcrypt cost of 31 or an scrypt
// N of 2^30 would hold a hashing thread for hours.

export type Pbkdf2Digest = 'sha1' | 'sha256' | 'sha512';

export type ImportedHash =
  | { scheme: 'bcrypt'; cost: number; encoded: string }
  | { scheme: 'argon2'; variant: 'argon2id' | 'argon2i' | 'argon2d'; memoryKib: number; timeCost: number; parallelism: number; encoded: string }
  | { scheme: 'scrypt'; n: number; r: number; p: number; salt: Buffer; key: Buffer }
  | { scheme: 'pbkdf2'; digest: Pbkdf2Digest; iterations: number; salt: Buffer; key: Buffer };

/** Longer stored hashes are refused unread: no supported format comes near. */
export const importedHashMaxLength = 1024;

const bcryptShape = /^\$(2[aby])\$(\d{2})\$[./A-Za-z0-9]{53}$/;
const argon2Shape = /^\$(argon2id|argon2i|argon2d)\$(?:v=(?:16|19)\$)?m=(\d{1,10}),t=(\d{1,10}),p=(\d{1,10})\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/;
const scryptShape = /^\$scrypt\$n=(\d{1,10}),r=(\d{1,10}),p=(\d{1,10})\$([A-Za-z0-9+/.]+={0,2})\$([A-Za-z0-9+/.]+={0,2})$/;
const pbkdf2Shape = /^\$pbkdf2-(sha1|sha256|sha512)\$i=(\d{1,10})(?:,l=(\d{1,4}))?\$([A-Za-z0-9+/.]+={0,2})\$([A-Za-z0-9+/.]+={0,2})$/;

/** Reads a stored imported hash; undefined when it is none of the formats above. */
export function parseImportedHash(stored: string): ImportedHash | undefined {
  if (stored.length > importedHashMaxLength) return undefined;
  const bcrypt = bcryptShape.exec(stored);
  if (bcrypt !== null) return { scheme: 'bcrypt', cost: Number(bcrypt[2]), encoded: stored };
  const argon2 = argon2Shape.exec(stored);
  if (argon2 !== null) {
    return { scheme: 'argon2', variant: argon2[1] as 'argon2id' | 'argon2i' | 'argon2d', memoryKib: Number(argon2[2]), timeCost: Number(argon2[3]), parallelism: Number(argon2[4]), encoded: stored };
  }
  const scrypt = scryptShape.exec(stored);
  if (scrypt !== null) {
    return { scheme: 'scrypt', n: Number(scrypt[1]), r: Number(scrypt[2]), p: Number(scrypt[3]), salt: decodePhcBase64(scrypt[4]!), key: decodePhcBase64(scrypt[5]!) };
  }
  const pbkdf2 = pbkdf2Shape.exec(stored);
  if (pbkdf2 !== null) {
    const key = decodePhcBase64(pbkdf2[5]!);
    // A declared key length that disagrees with the key is a corrupt record, not a variant.
    if (pbkdf2[3] !== undefined && Number(pbkdf2[3]) !== key.length) return undefined;
    return { scheme: 'pbkdf2', digest: pbkdf2[1] as Pbkdf2Digest, iterations: Number(pbkdf2[2]), salt: decodePhcBase64(pbkdf2[4]!), key };
  }
  return undefined;
}

/** The stored form of a scrypt hash (Better Auth's `salt:key` is converted to this on import). */
export function formatScryptHash(parameters: { n: number; r: number; p: number }, salt: Buffer, key: Buffer): string {
  return `$scrypt$n=${parameters.n},r=${parameters.r},p=${parameters.p}$${encodePhcBase64(salt)}$${encodePhcBase64(key)}`;
}

/** The stored form of a PBKDF2 hash (Keycloak's credential JSON is converted to this on import). */
export function formatPbkdf2Hash(digest: Pbkdf2Digest, iterations: number, salt: Buffer, key: Buffer): string {
  return `$pbkdf2-${digest}$i=${iterations},l=${key.length}$${encodePhcBase64(salt)}$${encodePhcBase64(key)}`;
}

function encodePhcBase64(bytes: Buffer): string {
  return bytes.toString('base64').replace(/=+$/, '');
}

function decodePhcBase64(text: string): Buffer {
  return Buffer.from(text.replaceAll('.', '+'), 'base64');
}
