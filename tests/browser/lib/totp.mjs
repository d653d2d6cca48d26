// TOTP codes for the tests, computed by an independent implementation (`oathtool`) and
// cross-checked against RFC 6238 computed here with node:crypto.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';

const STEP = 30;

function base32Decode(input) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const clean = input.replace(/[\s=-]/g, '').toUpperCase();
  let bits = 0;
  let value = 0;
  const out = [];
  for (const ch of clean) {
    const i = alphabet.indexOf(ch);
    if (i < 0) throw new Error(`not base32: ${JSON.stringify(input)}`);
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** RFC 6238 (SHA-1, 6 digits, 30 s) for time step `step`. */
export function rfc6238(secret, step) {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(step));
  const mac = crypto.createHmac('sha1', base32Decode(secret)).update(msg).digest();
  const off = mac[mac.length - 1] & 0x0f;
  const bin = (mac.readUInt32BE(off) & 0x7fffffff) % 1_000_000;
  return String(bin).padStart(6, '0');
}

/** `oathtool --totp -b SECRET` for time step `step`. */
export function oathtool(secret, step) {
  const out = execFileSync('oathtool', ['--totp', '-b', '-N', `@${step * STEP}`, secret], {
    encoding: 'utf8',
  }).trim();
  if (!/^\d{6}$/.test(out)) throw new Error(`oathtool printed ${JSON.stringify(out)}`);
  const mine = rfc6238(secret, step);
  if (mine !== out) throw new Error(`oathtool says ${out}, RFC 6238 here says ${mine}`);
  return out;
}

/**
 * An authenticator app: hands out a code for a step later than every step used so far (the
 * server refuses replays), within the server's window of one step either side.
 */
export class Authenticator {
  constructor(secret) {
    this.secret = secret.replace(/\s+/g, '');
    this.last = null;
  }

  async fresh() {
    for (;;) {
      const now = Date.now() / 1000;
      const current = Math.floor(now / STEP);
      const into = now - current * STEP;
      const lowest = into < STEP - 3 ? current - 1 : current;
      const step = this.last === null ? current : Math.max(this.last + 1, lowest);
      if (step <= current + 1) {
        this.last = step;
        return oathtool(this.secret, step);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
