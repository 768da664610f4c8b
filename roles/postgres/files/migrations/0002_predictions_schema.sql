-- Predictions: one row per predicted employee, written by the gateway (the Cloud Function).
CREATE SCHEMA predictions;

CREATE TABLE predictions.predictions (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  request_id uuid NOT NULL,
  row_index smallint NOT NULL CHECK (row_index >= 0),
  user_id bigint NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  model_name text NOT NULL,
  model_version integer NOT NULL CHECK (model_version > 0),
  age smallint NOT NULL,
  distancefromhome smallint NOT NULL,
  education smallint NOT NULL,
  environmentsatisfaction smallint NOT NULL,
  joblevel smallint NOT NULL,
  jobsatisfaction smallint NOT NULL,
  maritalstatussingle smallint NOT NULL,
  monthlyincome integer NOT NULL,
  numcompaniesworked smallint NOT NULL,
  overtime smallint NOT NULL,
  percentsalaryhike smallint NOT NULL,
  relationshipsatisfaction smallint NOT NULL,
  stockoptionlevel smallint NOT NULL,
  totalworkingyears smallint NOT NULL,
  trainingtimeslastyear smallint NOT NULL,
  worklifebalance smallint NOT NULL,
  yearsatcompany smallint NOT NULL,
  yearsincurrentrole smallint NOT NULL,
  yearssincelastpromotion smallint NOT NULL,
  yearswithcurrmanager smallint NOT NULL,
  probability double precision NOT NULL CHECK (probability BETWEEN 0 AND 1),
  label boolean NOT NULL,
  UNIQUE (request_id, row_index)
);

-- "The latest predictions of a user" (the web page's history table).
CREATE INDEX predictions_user_latest ON predictions.predictions (user_id, created_at DESC);
-- "Predictions per model version per day": a range scan per version over created_at.
CREATE INDEX predictions_model_day ON predictions.predictions (model_name, model_version, created_at);
