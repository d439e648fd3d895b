-- One row per annotation. `doc` is the annotation's JSON with an empty "id" at byte `id_at`
-- (the IRI is filled in per response); `seq` is the stable listing order, assigned by the
-- database so that several server processes can share this table.
CREATE TABLE annotations (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug       TEXT   NOT NULL UNIQUE,
    via        TEXT            UNIQUE,
    target     TEXT   NOT NULL,
    doc        TEXT   NOT NULL,
    id_at      BIGINT NOT NULL,
    etag       TEXT   NOT NULL,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL
);

CREATE INDEX annotations_by_target ON annotations (target, seq);
