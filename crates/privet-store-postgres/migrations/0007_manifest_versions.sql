-- Published manifest versions: each text records its `product.version` and who published it,
-- and a product's version is published with one text only.
--
-- Texts published before this migration keep an empty version and publisher: their version
-- lives in the TOML, which SQL cannot read, and two of them may even share one (nothing
-- refused that before). The server reads an empty version from the text, and checks a new
-- version against those texts itself (they never change, so that check cannot race); the
-- index below covers every version published from now on.
ALTER TABLE manifests ADD COLUMN version text NOT NULL DEFAULT '';
ALTER TABLE manifests ADD COLUMN published_by text NOT NULL DEFAULT '';
CREATE UNIQUE INDEX manifests_version ON manifests (product, version) WHERE version <> '';
