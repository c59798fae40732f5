// Forges JWTs with node:crypto so tests can present tokens the server never issued.
import { createHmac, randomUUID } from 'node:crypto';

import { JWT_SECRET } from './server.mjs';

const HASHES = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' };

const b64url = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/**
 * Signs `payload` (an object) as a compact JWT.
 * alg: HS256 | HS384 | HS512 | none ('none' gives an empty signature).
 * header: extra header fields (override alg/typ to lie about them).
 */
export function signJwt(payload, { alg = 'HS256', secret = JWT_SECRET, header = {} } = {}) {
  const signingInput = `${b64url({ alg, typ: 'JWT', ...header })}.${b64url(payload)}`;
  if (alg === 'none') return `${signingInput}.`;
  const hash = HASHES[alg];
  if (!hash) throw new Error(`unsupported alg ${alg}`);
  return `${signingInput}.${createHmac(hash, secret).update(signingInput).digest('base64url')}`;
}

/** { header, payload } of a compact JWT, without checking anything. */
export function decodeJwt(token) {
  const parts = token.split('.');
  if (parts.length !== 3) throw new Error(`not a compact JWT: ${token}`);
  return {
    header: JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')),
    payload: JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')),
  };
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Drops keys whose value is undefined, so overrides can remove claims. */
function compact(claims) {
  return Object.fromEntries(Object.entries(claims).filter(([, v]) => v !== undefined));
}

/** Claims of a valid access token for user `sub`; `overrides` replace (or, with undefined, remove) claims. */
export function accessClaims(sub, overrides = {}) {
  const iat = nowSeconds();
  return compact({ iss: 'zencast', aud: 'zencast', sub, typ: 'access', iat, exp: iat + 3600, jti: randomUUID(), ...overrides });
}

/** Claims of a valid participant token. */
export function participantClaims({ sub, room, name }, overrides = {}) {
  const iat = nowSeconds();
  return compact({
    iss: 'zencast', aud: 'zencast', sub, typ: 'participant', room, name, iat, exp: iat + 3600, jti: randomUUID(), ...overrides,
  });
}

/** Ready-made tokens for user `sub`. */
export const forge = {
  /** A token the server should accept: HS256, the test secret, all claims right. */
  valid: (sub, overrides) => signJwt(accessClaims(sub, overrides)),
  /** Custom claims, HS256 with the test secret. */
  claims: (claims) => signJwt(claims),
  /** Right secret, but HS512. */
  hs512: (sub) => signJwt(accessClaims(sub), { alg: 'HS512' }),
  /** Unsigned. */
  none: (sub) => signJwt(accessClaims(sub), { alg: 'none' }),
  /** HS256 with a different 48-byte key. */
  wrongKey: (sub) => signJwt(accessClaims(sub), { secret: 'this-is-not-the-zencast-test-secret-0123456789ab' }),
  /** Signed correctly, but exp is in the past. */
  expired: (sub) => {
    const now = nowSeconds();
    return signJwt(accessClaims(sub, { iat: now - 7200, exp: now - 3600 }));
  },
  participant: (ids, overrides) => signJwt(participantClaims(ids, overrides)),
};
