-- One row per answered request: what the gateway needs to answer a retried request (same
-- idempotency key) with the stored result instead of predicting and storing it again.
CREATE TABLE predictions.requests (
  request_id uuid PRIMARY KEY,
  user_id bigint NOT NULL,
  -- Client-chosen, unique per user; NULL when the client sent none (NULLs never conflict).
  idempotency_key text CHECK (length(idempotency_key) BETWEEN 1 AND 200),
  -- sha256 of the request's rows: a key reused for different rows is refused, not replayed.
  body_sha256 bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  model_name text NOT NULL,
  model_version integer NOT NULL CHECK (model_version > 0),
  threshold double precision NOT NULL,
  row_count smallint NOT NULL CHECK (row_count > 0),
  UNIQUE (user_id, idempotency_key)
);

-- Every prediction row belongs to a stored request (rows written before this migration, if
-- any, are not checked: NOT VALID).
ALTER TABLE predictions.predictions
  ADD CONSTRAINT predictions_request_fk FOREIGN KEY (request_id)
  REFERENCES predictions.requests (request_id) NOT VALID;
