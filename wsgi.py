"""Point d'entrée WSGI : `gunicorn wsgi:app`."""

from incubator import create_app

app = create_app()
