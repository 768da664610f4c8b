-- Who may call the prediction function and what each caller may do. A caller is either a key
-- (stored only as its sha256: keys are 256-bit random strings, so a fast hash hides them as well
-- as a slow one would) or, on Google Cloud, a Google identity (the service account whose token
-- IAM verified). Rows are never deleted: a revoked client stays on record with its times.
CREATE SCHEMA access;

CREATE TABLE access.clients (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9@._+-]{0,199}$'),
  key_sha256 bytea UNIQUE CHECK (octet_length(key_sha256) = 32),
  google_identity boolean NOT NULL DEFAULT false,
  scopes text[] NOT NULL CHECK (
    cardinality(scopes) > 0
    AND scopes <@ ARRAY['predict', 'history:own', 'history:all', 'act-as-any-user']
  ),
  -- The user a personal key predicts and reads history as; NULL for a service that acts for
  -- its own signed-in users (act-as-any-user) or only reads everyone's history.
  user_id bigint CHECK (user_id > 0),
  managed_by text NOT NULL CHECK (length(managed_by) BETWEEN 1 AND 200),
  created_at timestamptz NOT NULL DEFAULT now(),
  rotated_at timestamptz,
  revoked_at timestamptz,
  CHECK (google_identity = (key_sha256 IS NULL)),
  CHECK (
    user_id IS NOT NULL
    OR 'act-as-any-user' = ANY (scopes)
    OR NOT scopes && ARRAY['predict', 'history:own']
  )
);

COMMENT ON TABLE access.clients IS
  'Callers of the prediction function: hashed keys or Google identities, with their scopes';

-- When each client was last let in, written by the function (at most once a minute per client):
-- apart, so that the function's account can record use without being able to change a client.
CREATE TABLE access.client_use (
  client_id bigint PRIMARY KEY REFERENCES access.clients (id),
  last_used_at timestamptz NOT NULL
);
