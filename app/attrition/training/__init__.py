"""The training pipeline: extract, validate, fit with CV, evaluate, log, register, promote."""
