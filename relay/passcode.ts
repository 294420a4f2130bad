/**
 * A room passcode kept only as a slow hash (scrypt), compared in constant time.
 * The plain passcode is dropped as soon as the hash is made.
 */
import { randomBytes, scrypt, timingSafeEqual, type BinaryLike } from 'node:crypto';

const KEY_LENGTH = 32;
const COST = { N: 16_384, r: 8, p: 1 } as const;

function derive(secret: BinaryLike, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, KEY_LENGTH, COST, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

export class PasscodeGate {
  private constructor(
    readonly salt: Buffer,
    readonly hash: Buffer | null,
  ) {}

  static async create(passcode: string | null): Promise<PasscodeGate> {
    const salt = randomBytes(16);
    return new PasscodeGate(salt, passcode === null ? null : await derive(passcode, salt));
  }

  get required(): boolean {
    return this.hash !== null;
  }

  async check(candidate: string | undefined): Promise<boolean> {
    if (this.hash === null) return true;
    if (candidate === undefined) return false;
    const key = await derive(candidate.slice(0, 256), this.salt);
    return timingSafeEqual(key, this.hash);
  }
}
