-- Training data: one row per employee, typed after the IBM HR columns (app/attrition/columns.py
-- holds the value ranges; the loader enforces them and tests/ checks this table matches it).
CREATE SCHEMA training;

CREATE TABLE training.employees (
  age integer NOT NULL,
  attrition text NOT NULL,
  business_travel text NOT NULL,
  daily_rate integer NOT NULL,
  department text NOT NULL,
  distance_from_home integer NOT NULL,
  education integer NOT NULL,
  education_field text NOT NULL,
  employee_count integer NOT NULL,
  employee_number integer PRIMARY KEY CHECK (employee_number > 0),
  environment_satisfaction integer NOT NULL,
  gender text NOT NULL,
  hourly_rate integer NOT NULL,
  job_involvement integer NOT NULL,
  job_level integer NOT NULL,
  job_role text NOT NULL,
  job_satisfaction integer NOT NULL,
  marital_status text NOT NULL,
  monthly_income integer NOT NULL,
  monthly_rate integer NOT NULL,
  num_companies_worked integer NOT NULL,
  over18 text NOT NULL,
  over_time text NOT NULL,
  percent_salary_hike integer NOT NULL,
  performance_rating integer NOT NULL,
  relationship_satisfaction integer NOT NULL,
  standard_hours integer NOT NULL,
  stock_option_level integer NOT NULL,
  total_working_years integer NOT NULL,
  training_times_last_year integer NOT NULL,
  work_life_balance integer NOT NULL,
  years_at_company integer NOT NULL,
  years_in_current_role integer NOT NULL,
  years_since_last_promotion integer NOT NULL,
  years_with_curr_manager integer NOT NULL,
  loaded_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE training.employees IS 'Employee records for training; written by the loader role only';
COMMENT ON COLUMN training.employees.loaded_at IS 'When the row was first loaded';
COMMENT ON COLUMN training.employees.updated_at IS 'When a load last changed a value of the row';
