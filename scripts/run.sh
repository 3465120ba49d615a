#!/usr/bin/env bash
# make run: local config, migrations, demo data if empty, then gunicorn.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${PORT:-5000}"
export FLASK_APP=wsgi:app

mkdir -p instance
if [ ! -f instance/config.py ]; then
  secret=$(.venv/bin/python -c 'import secrets; print(secrets.token_hex(32))')
  cat > instance/config.py <<CONFIG
# Configuration locale créée par « make run » (jamais versionnée).
SECRET_KEY = "$secret"
# Le poste local sert en HTTP simple : le cookie de session ne peut pas exiger HTTPS.
# En production (HTTPS), supprimez cette ligne.
SESSION_COOKIE_SECURE = False
CONFIG
  echo "== instance/config.py créé (clé secrète aléatoire)"
fi

echo "== Migrations de la base"
.venv/bin/flask db upgrade
.venv/bin/flask seed-demo --if-empty

cat <<MSG

  Incubateur est servi sur http://127.0.0.1:$PORT

  Comptes de démonstration (mot de passe : incubateur-demo) :
    agent@demo.incubateur.fr       agent (N+1 : encadrant@demo.incubateur.fr)
    encadrant@demo.incubateur.fr   encadrant
    collectif@demo.incubateur.fr   membre du collectif pilote
    animation@demo.incubateur.fr   animatrice du collectif
    rh@demo.incubateur.fr          gestionnaire RH
    admin@demo.incubateur.fr       administratrice
    admin@ccas.demo.incubateur.fr  administrateur du CCAS (seconde collectivité)

  Courriels : sans serveur SMTP configuré, ils sont écrits dans instance/mail/.
  Ctrl+C pour arrêter.

MSG
# The email worker runs beside the web server (one copy: SQLite) and stops with it.
.venv/bin/flask notifications worker --poll 5 &
worker=$!
trap 'kill $worker 2>/dev/null' EXIT INT TERM
# Workers and threads: gunicorn.conf.py (two single-threaded processes per core). The
# application logs one line per request itself (incubator/observability.py).
.venv/bin/gunicorn --config gunicorn.conf.py --bind "127.0.0.1:$PORT" \
  --error-logfile - wsgi:app
