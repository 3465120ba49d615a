"""Data migrations carry stored rows along with the code: tried on a database of their own,
upgraded step by step from the revision before (SQLite; the schema on both databases is
compared with the models in test_config)."""

from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from incubator import create_app
from incubator.extensions import db
from tests.conftest import app_config


def test_stored_notification_endpoints_follow_the_immersion_pages(tmp_path):
    app = create_app(app_config(f"sqlite:///{tmp_path / 'migrations.db'}"))
    with app.app_context():
        upgrade(revision="0011")
        db.session.execute(text(
            "INSERT INTO institutions (id, name, slug, kind, accent_color, created_at) "
            "VALUES (1, 'Ville', 'ville', 'commune', '#1f5f8b', '2026-11-30')"))
        db.session.execute(text(
            "INSERT INTO users (id, institution_id, first_name, last_name, email, category, quotite, "
            "is_active, is_instance_admin, created_at) "
            "VALUES (1, 1, 'Ana', 'Agent', 'ana@ville.fr', 'B', 100, 1, 0, '2026-11-30')"))
        for number, endpoint in enumerate(("projects.immersions", "projects.convention", "projects.show"), 1):
            db.session.execute(text(
                "INSERT INTO notifications (id, user_id, category, subject, body, link, link_endpoint, created_at, digest_pending) "
                "VALUES (:id, 1, 'immersions', 'Titre', 'Texte', '/immersions', :endpoint, '2026-11-30', 0)"),
                {"id": number, "endpoint": endpoint})
        db.session.commit()

        upgrade(revision="0012")
        assert _endpoints() == ["immersions.index", "immersions.convention", "projects.show"]
        downgrade(revision="0011")
        assert _endpoints() == ["projects.immersions", "projects.convention", "projects.show"]


def _endpoints():
    endpoints = list(db.session.scalars(text("SELECT link_endpoint FROM notifications ORDER BY id")))
    db.session.rollback()  # end the read: the next migration runs on a connection of its own
    return endpoints
