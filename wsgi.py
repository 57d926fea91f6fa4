"""The WSGI entry point for gunicorn (Procfile `web: gunicorn wsgi:app`)."""

import sys

from webapp import ConfigError, create_app

try:
    app = create_app()
except ConfigError as error:  # one clear line, not a traceback
    sys.exit(f"qbsync: {error}")
