"""Helpers shared by the tests and the benchmarks: throwaway PostgreSQL clusters, tracking
servers, serving and gateway processes, small models and CSV files. Installed (editable) into
the controller's venv by `fleet.sh venv` as the distribution attrition-testkit."""
