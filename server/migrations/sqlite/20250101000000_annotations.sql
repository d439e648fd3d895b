-- One row per annotation. `doc` is the annotation's JSON with an empty "id" at byte `id_at`
-- (the IRI is filled in per response); `seq` is the stable listing order.
CREATE TABLE annotations (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    slug       TEXT    NOT NULL UNIQUE,
    via        TEXT             UNIQUE,
    target     TEXT    NOT NULL,
    doc        TEXT    NOT NULL,
    id_at      INTEGER NOT NULL,
    etag       TEXT    NOT NULL,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
);

CREATE INDEX annotations_by_target ON annotations (target, seq);
