// Issues and verifies JWTs exactly as the contract says: only the configured
// algorithm is accepted, so `alg: none` and HS/RS confusion are refused.
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
  const verifyKey: KeyObject = hs ? crypto.createSecretKey(Buffer.from(cfg.secret!)) : crypto.createPublicKey(cfg.publicKey!);
  const signSource = hs ? cfg.secret : cfg.privateKey;
  const signKey: KeyObject | null = signSource ? (hs ? crypto.createSecretKey(Buffer.from(signSource)) : crypto.createPrivateKey(signSource)) : null;
  const verifyOptions: jwt.VerifyOptions = {
    algorithms: [algorithm],
    ...(cfg.issuer ? { issuer: cfg.issuer } : {}),
    ...(cfg.audience ? { audience: cfg.audience } : {}),
  };
  return {
    canIssue: Boolean(signKey),
    verify(token: unknown): VerifiedToken {
      if (typeof token !== 'string' || token.length === 0 || token.length > 8192) throw errors.unauthorized('missing token');
      let payload: string | jwt.JwtPayload;
      try {
        payload = jwt.verify(token, verifyKey, verifyOptions);
      } catch (err) {
        const name = (err as Error).name;
        throw new AppError('UNAUTHORIZED', name === 'TokenExpiredError' ? 'token expired' : name === 'NotBeforeError' ? 'token not yet valid' : 'invalid token');
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
        ...(cfg.issuer ? { issuer: cfg.issuer } : {}),
        ...(cfg.audience ? { audience: cfg.audience } : {}),
      });
      return { token, exp };
    },
  };
}
