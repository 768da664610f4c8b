"""The serving host: the `production` model behind gunicorn (see docs/architecture.md)."""
