// Where the client's DPoP key pair lives. In a browser: IndexedDB, which stores a CryptoKey as it is
// (structured clone) — the private key stays non-extractable there, and the same key signs after a
// reload, so the refresh token bound to it keeps working. Elsewhere (Node): memory, or the pair the
// app supplies. The key is never written anywhere as bytes by this SDK.
import { TwofoldClientError } from './errors.js';
import { generateDpopKeyPair, isEs256KeyPair, type DpopKeyPair } from './dpop-proof.js';

export interface DpopKeyStore {
  /** The stored key pair, created (and stored) on first use. */
  keyPair(): Promise<DpopKeyPair>;
}

/** A key pair made on first use, kept for the life of the page or process. */
export function createMemoryDpopKeyStore(): DpopKeyStore {
  let pair: Promise<DpopKeyPair> | undefined;
  return {
    keyPair() {
      pair ??= generateDpopKeyPair().catch((error: unknown) => {
        pair = undefined;
        throw error;
      });
      return pair;
    },
  };
}

/** The app's own key pair. */
export function createSuppliedDpopKeyStore(keyPair: DpopKeyPair): DpopKeyStore {
  if (!isEs256KeyPair(keyPair)) throw new TypeError('dpop.keyPair must be an ECDSA P-256 key pair whose private key can sign (ES256)');
  const pair = Promise.resolve(keyPair);
  return { keyPair: () => pair };
}

// The few IndexedDB members used here, declared so that the SDK builds without the DOM library.
interface IdbRequest<T> {
  readonly result: T;
  readonly error: { name: string; message: string } | null;
  onsuccess: (() => void) | null;
  onerror: (() => void) | null;
}
interface IdbOpenRequest extends IdbRequest<IdbDatabase> {
  onupgradeneeded: (() => void) | null;
  onblocked: (() => void) | null;
}
interface IdbTransaction {
  objectStore(name: string): IdbObjectStore;
  readonly error: { name: string; message: string } | null;
  oncomplete: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
}
interface IdbObjectStore {
  get(key: string): IdbRequest<unknown>;
  add(value: unknown, key: string): IdbRequest<unknown>;
}
interface IdbDatabase {
  readonly objectStoreNames: { contains(name: string): boolean };
  createObjectStore(name: string): unknown;
  transaction(storeName: string, mode: 'readonly' | 'readwrite'): IdbTransaction;
  close(): void;
}
interface IdbFactory {
  open(name: string, version?: number): IdbOpenRequest;
}

const databaseName = 'twofold-client';
const objectStoreName = 'dpop-keys';

export function indexedDbAvailable(): boolean {
  return (globalThis as { indexedDB?: IdbFactory }).indexedDB !== undefined;
}

function indexedDbFactory(): IdbFactory {
  const factory = (globalThis as { indexedDB?: IdbFactory }).indexedDB;
  if (factory === undefined) throw new TypeError("dpop.store 'indexeddb' needs IndexedDB (a browser); in Node use 'memory' or pass a keyPair");
  return factory;
}

function requestResult<T>(request: IdbRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function openDatabase(factory: IdbFactory): Promise<IdbDatabase> {
  const request = factory.open(databaseName, 1);
  request.onupgradeneeded = () => {
    if (!request.result.objectStoreNames.contains(objectStoreName)) request.result.createObjectStore(objectStoreName);
  };
  return requestResult(request);
}

function isStoredKeyPair(value: unknown): value is DpopKeyPair {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<DpopKeyPair>;
  return candidate.privateKey !== undefined && candidate.publicKey !== undefined && isEs256KeyPair(candidate as DpopKeyPair);
}

async function readKeyPair(database: IdbDatabase, name: string): Promise<DpopKeyPair | undefined> {
  const stored = await requestResult(database.transaction(objectStoreName, 'readonly').objectStore(objectStoreName).get(name));
  return isStoredKeyPair(stored) ? stored : undefined;
}

/** Adds the pair under `name`; false when another tab added one first (the key is taken, not replaced). */
function addKeyPair(database: IdbDatabase, name: string, keyPair: DpopKeyPair): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const transaction = database.transaction(objectStoreName, 'readwrite');
    const request = transaction.objectStore(objectStoreName).add({ privateKey: keyPair.privateKey, publicKey: keyPair.publicKey }, name);
    let lostTheRace = false;
    request.onerror = () => {
      lostTheRace = request.error?.name === 'ConstraintError';
    };
    transaction.oncomplete = () => resolve(true);
    transaction.onabort = () => (lostTheRace ? resolve(false) : reject(transaction.error ?? request.error));
  });
}

/**
 * The key pair stored in IndexedDB under `name` (one per Twofold server), made and stored on first
 * use. `add`, never `put`: two tabs starting at once must end up with ONE key, or the tab whose key
 * was overwritten would hold a session nobody can refresh after a reload.
 */
export function createIndexedDbDpopKeyStore(name: string): DpopKeyStore {
  let pair: Promise<DpopKeyPair> | undefined;

  async function load(): Promise<DpopKeyPair> {
    let database: IdbDatabase;
    try {
      database = await openDatabase(indexedDbFactory());
    } catch (error) {
      throw new TwofoldClientError({ code: 'dpop_unavailable', detail: 'IndexedDB could not be opened to keep the DPoP key; use dpop: { store: "memory" } where it is unavailable.', cause: error });
    }
    try {
      const stored = await readKeyPair(database, name);
      if (stored !== undefined) return stored;
      const created = await generateDpopKeyPair();
      if (await addKeyPair(database, name, created)) return created;
      const winner = await readKeyPair(database, name);
      if (winner === undefined) throw new Error('the DPoP key another tab stored could not be read back');
      return winner;
    } finally {
      database.close();
    }
  }

  return {
    keyPair() {
      pair ??= load().catch((error: unknown) => {
        pair = undefined;
        throw error;
      });
      return pair;
    },
  };
}
