"""The web page on the gateway host: a form in front of the Cloud Function (see app.py)."""
