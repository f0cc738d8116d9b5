// Issues and verifies JWTs exactly as the contract says: only the configured
// algorithm is accepted, so `alg: none` and HS/RS confusion are refused. Several
// verification keys, chosen by the token's `kid`, let a signing key be rotated
// while tokens signed with the previous one stay valid until they expire.
import crypto, { type KeyObject } from 'node:crypto';
import jwt, { type Algorithm } from 'jsonwebtoken';
import type { Config } from '../../config';
import { AppError, errors } from '../../errors';

export interface VerifiedToken {
  userId: string;
  /** Expiry, unix seconds. */
  exp: number;
  /** Issued at, unix seconds (absent if the issuer left it out). */
  iat?: number;
  jti?: string;
}

/** Answers whether a verified token was revoked (see revocation.ts); must be synchronous. */
export type RevocationCheck = (token: VerifiedToken) => boolean;

export interface TokenService {
  verify(token: unknown): VerifiedToken;
  /** Null when this node holds only a public key and cannot sign. */
  issue(userId: string): { token: string; exp: number };
  canIssue: boolean;
}

/** Builds the token service from the validated JWT config. */
export function createTokenService(cfg: Config['jwt'], isRevoked?: RevocationCheck): TokenService {
  const algorithm = cfg.algorithm as Algorithm;
  // Key objects made once: given a string, jsonwebtoken builds one on every call, first
  // trying to parse an HS256 secret as a PEM public key and catching the throw. That failed
  // parse (an Error with a stack trace) was the largest CPU cost of a socket handshake.
  const hs = cfg.algorithm === 'HS256';
  const toVerifyKey = (key: string): KeyObject => (hs ? crypto.createSecretKey(Buffer.from(key)) : crypto.createPublicKey(key));
  const verifyKey: KeyObject = toVerifyKey(hs ? cfg.secret! : cfg.publicKey!);
  const signSource = hs ? cfg.secret : cfg.privateKey;
  const signKey: KeyObject | null = signSource ? (hs ? crypto.createSecretKey(Buffer.from(signSource)) : crypto.createPrivateKey(signSource)) : null;
  const keysById = new Map(cfg.verifyKeys.map((k) => [k.kid, toVerifyKey(k.key)]));
  const allKeys = [verifyKey, ...keysById.values()];
  if (cfg.keyId) keysById.set(cfg.keyId, verifyKey);
  /**
   * A kid naming a configured key selects that key alone. A token without a kid (issued before
   * key ids were configured) is tried against every key, the current one first. An unknown kid
   * is refused once key ids are configured; without JWT_KEY_ID the current key is tried, as
   * before key ids existed (external issuers put a kid in every token).
   */
  const keysFor = (kid: unknown): KeyObject[] => {
    if (kid === undefined) return allKeys;
    if (typeof kid === 'string' && keysById.has(kid)) return [keysById.get(kid)!];
    return cfg.keyId ? [] : [verifyKey];
  };
  const verifyOptions: jwt.VerifyOptions = {
    algorithms: [algorithm],
    ...(cfg.issuer ? { issuer: cfg.issuer } : {}),
    ...(cfg.audience ? { audience: cfg.audience } : {}),
  };
  return {
    canIssue: Boolean(signKey),
    verify(token: unknown): VerifiedToken {
      if (typeof token !== 'string' || token.length === 0 || token.length > 8192) throw errors.unauthorized('missing token');
      const candidates = keysFor(jwt.decode(token, { complete: true })?.header.kid);
      if (candidates.length === 0) throw errors.unauthorized('unknown signing key');
      let payload: string | jwt.JwtPayload | null = null;
      for (let i = 0; payload === null; i++) {
        try {
          payload = jwt.verify(token, candidates[i], verifyOptions);
        } catch (err) {
          const { name, message } = err as Error;
          // Only a signature mismatch is worth trying the next key for; anything else is final.
          if (message === 'invalid signature' && i + 1 < candidates.length) continue;
          throw new AppError('UNAUTHORIZED', name === 'TokenExpiredError' ? 'token expired' : name === 'NotBeforeError' ? 'token not yet valid' : 'invalid token');
        }
      }
      if (typeof payload !== 'object' || typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > 128) {
        throw errors.unauthorized('token has no subject');
      }
      if (typeof payload.exp !== 'number') throw errors.unauthorized('token has no expiry');
      const verified: VerifiedToken = {
        userId: payload.sub,
        exp: payload.exp,
        ...(typeof payload.iat === 'number' ? { iat: payload.iat } : {}),
        ...(typeof payload.jti === 'string' ? { jti: payload.jti } : {}),
      };
      if (isRevoked?.(verified)) throw errors.unauthorized('token revoked');
      return verified;
    },
    issue(userId: string) {
      if (!signKey) throw new AppError('UNAVAILABLE', 'this server verifies tokens from an external issuer and cannot issue them');
      const exp = Math.floor(Date.now() / 1000) + cfg.ttlSeconds;
      // A jti lets one session be revoked without the others.
      const token = jwt.sign({ sub: userId, exp, jti: crypto.randomUUID() }, signKey, {
        algorithm,
        ...(cfg.keyId ? { keyid: cfg.keyId } : {}),
        ...(cfg.issuer ? { issuer: cfg.issuer } : {}),
        ...(cfg.audience ? { audience: cfg.audience } : {}),
      });
      return { token, exp };
    },
  };
}
