#!/usr/bin/env python3
"""Verifies a Privet erasure receipt with an independent JOSE implementation (jwcrypto).

Usage: verify_receipt.py JWKS_FILE JWS

JWKS_FILE is the instance's `/.well-known/jwks.json`; JWS is the receipt's compact
serialisation (RFC 7515). Only `alg: EdDSA` is accepted and the key is chosen by the header's
`kid`. Exit 0 and print the claims (JSON) when the signature verifies; exit 1 otherwise,
with the reason on stderr.
"""

import json
import sys

from jwcrypto import jwk, jws
from jwcrypto.common import JWException


def main(argv):
    if len(argv) != 3:
        print("usage: verify_receipt.py JWKS_FILE JWS", file=sys.stderr)
        return 1
    try:
        with open(argv[1], encoding="utf-8") as f:
            keyset = jwk.JWKSet.from_json(f.read())
        token = jws.JWS()
        token.allowed_algs = ["EdDSA"]
        token.deserialize(argv[2].strip())
        header = token.jose_header
        if header.get("alg") != "EdDSA":
            raise ValueError("alg is %r, not EdDSA" % header.get("alg"))
        kid = header.get("kid")
        key = keyset.get_key(kid) if kid is not None else None
        if key is None:
            raise ValueError("no key in the JWK set for kid %r" % kid)
        token.verify(key, alg="EdDSA")
        claims = json.loads(token.payload)
    except (JWException, ValueError, OSError, TypeError, KeyError) as e:
        print("invalid receipt: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        return 1
    print(json.dumps(claims, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
