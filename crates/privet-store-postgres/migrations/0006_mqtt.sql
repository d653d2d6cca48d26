-- The MQTT bridge.
--
-- Deliveries already stored, per device: a broker redelivers a message it is not sure was
-- acknowledged, and the append that carries a recorded fingerprint writes nothing. Recorded in
-- the append's commit; forgotten after a while (by `at`, the time the device was seen), and
-- with the device when it is reset or revoked.
CREATE TABLE deliveries (
    device       text NOT NULL,
    fingerprint  bytea NOT NULL,
    at           bigint NOT NULL,
    PRIMARY KEY (device, fingerprint)
);
CREATE INDEX deliveries_at ON deliveries (at);

-- The device token in the broker's password-file format (Mosquitto `$7$`, PBKDF2-SHA512), so
-- broker credentials are written without the token in clear. Replaced with the token.
ALTER TABLE devices ADD COLUMN broker_hash text;
