-- Accounts (household members and operator staff), sessions, two-step verification,
-- invitations, and signed firmware releases.

CREATE TABLE accounts (
    id                  text PRIMARY KEY,
    email_lookup        bytea NOT NULL UNIQUE,
    email_sealed        bytea NOT NULL,
    kind                text NOT NULL CHECK (kind IN ('member', 'staff')),
    household           text,
    member              text UNIQUE,
    owner               boolean NOT NULL DEFAULT false,
    role                text,
    password_hash       text NOT NULL,
    totp_sealed         bytea,
    totp_enabled        boolean NOT NULL DEFAULT false,
    totp_last_step      bigint,
    can_sign_in         boolean NOT NULL DEFAULT true,
    created_at          bigint NOT NULL,
    password_changed_at bigint NOT NULL
);
CREATE INDEX accounts_household ON accounts (household);

CREATE TABLE recovery_codes (
    account    text NOT NULL,
    code_hash  bytea NOT NULL,
    used_at    bigint,
    PRIMARY KEY (account, code_hash)
);

CREATE TABLE sessions (
    id_hash     bytea PRIMARY KEY,
    id          text NOT NULL UNIQUE,
    account     text NOT NULL,
    created_at  bigint NOT NULL,
    last_seen   bigint NOT NULL,
    expires_at  bigint NOT NULL,
    client      text NOT NULL DEFAULT ''
);
CREATE INDEX sessions_account ON sessions (account);

CREATE TABLE invitations (
    code_hash   bytea PRIMARY KEY,
    household   text NOT NULL,
    member      text NOT NULL,
    expires_at  bigint NOT NULL,
    used_at     bigint,
    created_by  text NOT NULL
);
CREATE INDEX invitations_member ON invitations (member);
CREATE INDEX invitations_household ON invitations (household);

CREATE TABLE releases (
    product     text NOT NULL,
    version     text NOT NULL,
    signed      text NOT NULL,
    created_at  bigint NOT NULL,
    PRIMARY KEY (product, version)
);
