"""Settings modules: `dev` (manage.py default), `test` (pytest), `production` (WSGI default)."""
