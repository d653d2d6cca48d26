"""Schemathesis hooks for Privet (loaded through SCHEMATHESIS_HOOKS by
crates/privet/tests/schemathesis.rs).

`POST /v1/products` takes a manifest as `application/toml`, a media type Schemathesis has no
serializer for; the generated body is a string, sent as its UTF-8 bytes like `text/plain`.
"""

import schemathesis

schemathesis.serializer.alias("application/toml", "text/plain")
