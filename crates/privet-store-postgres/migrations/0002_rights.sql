-- Rights requests received by e-mail or phone, and objections to legitimate-interests purposes.

CREATE TABLE requests (
    id                text PRIMARY KEY,
    kind              text NOT NULL,
    subject           text NOT NULL,
    received_at       bigint NOT NULL,
    due               date NOT NULL,
    extended_due      date,
    extension_reason  text,
    status            text NOT NULL CHECK (status IN ('open', 'done')),
    completed_at      bigint,
    created_by        text NOT NULL,
    created_at        bigint NOT NULL
);
CREATE INDEX requests_status ON requests (status, due);

CREATE TABLE objections (
    seq       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subject   text NOT NULL,
    product   text,
    purpose   text NOT NULL,
    at        bigint NOT NULL,
    actor     text NOT NULL
);
CREATE INDEX objections_subject ON objections (subject, seq);
