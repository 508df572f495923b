// HS256 JSON Web Tokens (RFC 7519 / RFC 7515), signed the way Zendesk's app proxy signs the token a ZAF app
// asks for with client.request({jwt: {algorithm: 'HS256', secret_key, expiry, claims}}): header
// {"alg":"HS256","typ":"JWT"}, payload = the app's claims plus iat (now) and exp (iat + expiry).
import { createHmac, timingSafeEqual } from 'node:crypto';

const b64url = (buf) => Buffer.from(buf).toString('base64url');

export function signHs256(payload, secret) {
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64url(JSON.stringify(payload));
  const sig = createHmac('sha256', secret).update(`${head}.${body}`).digest();
  return `${head}.${body}.${b64url(sig)}`;
}

/** The payload of a token the ZAF proxy would sign for `jwt` options at `nowSeconds`. */
export function proxyClaims(jwtOptions, nowSeconds) {
  const claims = { ...(jwtOptions.claims ?? {}) };
  claims.iat = nowSeconds;
  if (jwtOptions.expiry !== undefined && jwtOptions.expiry !== null) claims.exp = nowSeconds + Number(jwtOptions.expiry);
  return claims;
}

/** Decodes without verifying (for logs and tests). */
export function decodeJwt(token) {
  const [h, p] = String(token).split('.');
  return { header: JSON.parse(Buffer.from(h, 'base64url')), payload: JSON.parse(Buffer.from(p, 'base64url')) };
}

/** Verifies an HS256 token; returns the payload or throws an Error whose message is a snake_case reason. */
export function verifyHs256(token, secret, { nowSeconds = Math.floor(Date.now() / 1000), leeway = 30 } = {}) {
  const parts = String(token).split('.');
  if (parts.length !== 3) throw new Error('malformed_token');
  let header;
  let payload;
  try {
    header = JSON.parse(Buffer.from(parts[0], 'base64url'));
    payload = JSON.parse(Buffer.from(parts[1], 'base64url'));
  } catch {
    throw new Error('malformed_token');
  }
  if (header.alg !== 'HS256') throw new Error('unsupported_algorithm');
  const want = createHmac('sha256', secret).update(`${parts[0]}.${parts[1]}`).digest();
  const got = Buffer.from(parts[2], 'base64url');
  if (got.length !== want.length || !timingSafeEqual(got, want)) throw new Error('invalid_signature');
  if (typeof payload.exp !== 'number') throw new Error('malformed_token');
  if (payload.exp + leeway < nowSeconds) throw new Error('token_expired');
  return payload;
}
