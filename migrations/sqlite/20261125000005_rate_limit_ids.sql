-- Counted attempts get an explicit id (PostgreSQL has no rowid): refunds name it.
CREATE TABLE rate_limit_hits_new (
    id     INTEGER PRIMARY KEY,
    bucket TEXT NOT NULL,
    at     INTEGER NOT NULL
);
INSERT INTO rate_limit_hits_new (id, bucket, at) SELECT rowid, bucket, at FROM rate_limit_hits;
DROP TABLE rate_limit_hits;
ALTER TABLE rate_limit_hits_new RENAME TO rate_limit_hits;
CREATE INDEX rate_limit_hits_bucket_at ON rate_limit_hits(bucket, at);
