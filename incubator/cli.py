"""Command-line entry points: `flask seed-demo`, `flask create-institution`, ..."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask
from sqlalchemy import func, select

from .errors import ValidationFailed
from .extensions import db


def _fail(exc: ValidationFailed) -> None:
    for field, messages in exc.errors.items():
        for message in messages:
            click.echo(f"Erreur ({field}) : {message}", err=True)
    sys.exit(1)


def register_cli(app: Flask) -> None:
    from .organisation import importer as units_importer
    from .organisation import services as organisation_services
    from .organisation.models import Institution, OrgUnit
    from .people import services as people_services
    from .people.importer import ImportFailed, import_agents
    from .people.models import QUOTITE_MAX

    def institution_by_slug(slug: str) -> Institution:
        institution = db.session.scalar(select(Institution).where(Institution.slug == slug))
        if institution is None:
            click.echo(f"Erreur : aucune collectivité d'identifiant « {slug} ».", err=True)
            sys.exit(1)
        return institution

    @app.cli.command("seed-demo")
    @click.option("--if-empty", is_flag=True, help="Ne rien faire si la base contient déjà des collectivités.")
    def seed_demo(if_empty: bool) -> None:
        """Charge les données de démonstration (Ville de Belleville-sur-Loire et son CCAS)."""
        from .demo import DEMO_ACCOUNTS, seed

        if db.session.scalar(select(func.count()).select_from(Institution)):
            if if_empty:
                click.echo("La base contient déjà des données : démonstration non rechargée.")
                return
            click.echo("Erreur : la base n'est pas vide. seed-demo se lance sur une base neuve.", err=True)
            sys.exit(1)
        seed()
        db.session.commit()
        click.echo("Données de démonstration chargées. Comptes (mot de passe « incubateur-demo ») :")
        for email, description in DEMO_ACCOUNTS:
            click.echo(f"  {email:<38} {description}")

    @app.cli.command("create-institution")
    @click.argument("name")
    @click.option("--slug", required=True, help="Identifiant : minuscules, chiffres, tirets.")
    @click.option("--kind", default="commune", show_default=True)
    def create_institution(name: str, slug: str, kind: str) -> None:
        """Crée une collectivité sur l'instance."""
        try:
            institution = organisation_services.create_institution(None, name=name, slug=slug, kind=kind)
        except ValidationFailed as exc:
            _fail(exc)
        db.session.commit()
        click.echo(f"Collectivité « {institution.name} » créée (identifiant {institution.slug}).")

    @app.cli.command("create-admin")
    @click.option("--institution", "slug", required=True, help="Identifiant de la collectivité.")
    @click.option("--email", required=True)
    @click.option("--first-name", required=True)
    @click.option("--last-name", required=True)
    @click.option("--category", default="A", show_default=True)
    @click.option("--instance-admin", is_flag=True, help="Peut aussi créer des collectivités.")
    @click.password_option()
    def create_admin(slug, email, first_name, last_name, category, instance_admin, password):
        """Crée un compte d'administration dans une collectivité."""
        institution = institution_by_slug(slug)
        unit = db.session.scalar(select(OrgUnit).where(
            OrgUnit.institution_id == institution.id, OrgUnit.closed_on.is_(None)).limit(1))
        if unit is None:
            unit = OrgUnit(institution_id=institution.id, code="DG", name="Direction générale",
                           kind="direction")
            db.session.add(unit)
            db.session.flush()
        try:
            user = people_services.create_user(None, institution_id=institution.id, data={
                "first_name": first_name, "last_name": last_name, "email": email,
                "category": category, "quotite": QUOTITE_MAX, "org_unit_id": unit.id,
            }, password=password, roles=["admin"])
        except ValidationFailed as exc:
            _fail(exc)
        user.is_instance_admin = instance_admin
        db.session.commit()
        click.echo(f"Compte d'administration {user.email} créé dans « {institution.name} ».")

    @app.cli.command("check")
    @click.option("--url", "probe_url", default=None, metavar="URL",
                  help="Adresse par laquelle vérifier TRUSTED_PROXIES (BASE_URL par défaut).")
    def check_command(probe_url: str | None) -> None:
        """Vérifie la configuration et l'environnement (code de sortie 1 si une erreur)."""
        from .checks import ERROR, run_checks

        findings = run_checks(app, probe_url)
        for finding in findings:
            prefix = "ERREUR" if finding.level == ERROR else "AVERTISSEMENT"
            click.echo(f"{prefix} : {finding.message}")
        errors = sum(finding.level == ERROR for finding in findings)
        warnings = len(findings) - errors
        if not findings:
            click.echo("Configuration vérifiée : aucun problème.")
        else:
            click.echo(f"Configuration vérifiée : {errors} erreur(s), {warnings} avertissement(s).")
        if errors:
            sys.exit(1)

    @app.cli.group("notifications")
    def notifications() -> None:
        """Envoi des courriels de la boîte d'envoi."""

    @notifications.command("send")
    def notifications_send() -> None:
        """Envoie une fois ce qui est dû."""
        from .checks import email_refusal
        from .notifications.services import deliver_batch

        refusal = email_refusal(app)
        if refusal:
            click.echo(f"Erreur : {refusal}", err=True)
            sys.exit(1)
        total_sent = total_failed = 0
        while True:
            sent, failed = deliver_batch()
            total_sent, total_failed = total_sent + sent, total_failed + failed
            if not sent:
                break
        click.echo(f"{total_sent} courriel(s) envoyé(s), {total_failed} échec(s) (réessayés plus tard).")

    @notifications.command("worker")
    @click.option("--poll", default=5.0, show_default=True, help="Secondes entre deux passages à vide.")
    def notifications_worker(poll: float) -> None:
        """Envoie en continu (plusieurs copies possibles sur PostgreSQL ; une seule sur SQLite)."""
        from .notifications.services import run_worker

        click.echo("Envoi des notifications en continu (Ctrl+C pour arrêter).")
        run_worker(poll_seconds=poll)

    @notifications.command("digest")
    def notifications_digest() -> None:
        """Prépare les récapitulatifs quotidiens (à lancer une fois par jour)."""
        from .notifications.services import send_digests

        click.echo(f"{send_digests()} récapitulatif(s) préparé(s).")

    @notifications.command("overdue")
    def notifications_overdue() -> None:
        """Prévient les équipes des jalons en retard (une fois par jalon)."""
        from .projects.services import notify_overdue_milestones

        click.echo(f"{notify_overdue_milestones()} jalon(s) en retard signalé(s).")
        db.session.commit()

    @app.cli.group("search")
    def search() -> None:
        """Index de recherche des propositions."""

    @search.command("compact")
    def search_compact() -> None:
        """Regroupe l'index de recherche (SQLite) en un seul morceau, par petites étapes
        (à lancer chaque nuit)."""
        import time

        from .proposals.search import compact_index, index_segments

        before = index_segments()
        if before is None:
            click.echo("Rien à faire sur PostgreSQL : l'autovacuum entretient l'index de recherche.")
            return
        started = time.perf_counter()
        steps = compact_index()
        click.echo(f"Index de recherche regroupé : {before} segment(s) → {index_segments()}, "
                   f"en {steps} étape(s) et {time.perf_counter() - started:.1f} s.")

    @app.cli.command("backup")
    @click.argument("target", required=False, type=click.Path(dir_okay=False, path_type=Path))
    def backup_command(target: Path | None) -> None:
        """Copie cohérente de la base SQLite, application en marche (instance/backups/ par défaut)."""
        from .backup import BackupError, backup

        try:
            path = backup(app.config["SQLALCHEMY_DATABASE_URI"], target, Path(app.instance_path) / "backups")
        except BackupError as exc:
            click.echo(f"Erreur : {exc}", err=True)
            sys.exit(1)
        click.echo(f"Sauvegarde écrite : {path}")

    @app.cli.command("restore")
    @click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--yes", is_flag=True, help="Ne pas demander de confirmation.")
    def restore_command(source: Path, yes: bool) -> None:
        """Remplace la base par une sauvegarde vérifiée (arrêtez l'application avant)."""
        from .backup import BackupError, check, restore

        try:
            revision = check(source)
        except BackupError as exc:
            click.echo(f"Erreur : {exc}", err=True)
            sys.exit(1)
        if not yes:
            click.confirm(f"Remplacer la base actuelle par {source} (schéma {revision}) ?", abort=True)
        restore(app.config["SQLALCHEMY_DATABASE_URI"], source)
        click.echo(f"Base restaurée depuis {source} (schéma {revision}). Lancez « flask db upgrade » si besoin.")

    @app.cli.group("retention")
    def retention() -> None:
        """Conservation des données personnelles."""

    @retention.command("apply")
    @click.option("--years", type=int, default=None,
                  help="Ancienneté du départ, en années (défaut : RETENTION_YEARS, 5).")
    def retention_apply(years: int | None) -> None:
        """Anonymise les agents partis depuis plus de N ans (décisions, projets et totaux conservés) ;
        supprime les liens et codes d'accès terminés depuis ACCOUNT_TOKEN_RETENTION (30 jours)."""
        from datetime import timedelta

        from .accounts.services import forget_login_attempts
        from .accounts.tokens import purge
        from .audit.services import forget_sign_in_addresses
        from .timeutil import utcnow

        years = years if years is not None else app.config.get("RETENTION_YEARS", 5)
        now = utcnow()
        count = people_services.anonymise_departed(now - timedelta(days=365 * years))
        attempts_days = app.config["LOGIN_ATTEMPTS_KEPT_DAYS"]
        attempts = forget_login_attempts(now - timedelta(days=attempts_days))
        addresses_days = app.config["SIGN_IN_ADDRESSES_KEPT_DAYS"]
        addresses = forget_sign_in_addresses(now - timedelta(days=addresses_days))
        tokens = purge()
        db.session.commit()
        click.echo(f"{count} agent(s) anonymisé(s) (partis depuis plus de {years} an(s)).")
        click.echo(f"{tokens} lien(s) ou code(s) d'accès périmé(s) supprimé(s).")
        click.echo(f"{attempts} tentative(s) de connexion de plus de {attempts_days} jours effacée(s) ; "
                   f"{addresses} adresse(s) de connexion de plus de {addresses_days} jours retirée(s) du journal.")

    def run_import(importer, path: Path, slug: str):
        """Both CSV imports: all or nothing, every refused line named, exit 1 on refusal."""
        institution = institution_by_slug(slug)
        try:
            report = importer(None, institution_id=institution.id, raw=path.read_bytes())
        except (ImportFailed, units_importer.ImportFailed) as exc:
            db.session.rollback()
            click.echo(f"Import refusé, rien n'a été écrit : {exc.message}", err=True)
            for line, message in exc.lines:
                click.echo(f"  ligne {line} : {message}", err=True)
            sys.exit(1)
        db.session.commit()
        return report

    @app.cli.command("import-agents")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--institution", "slug", required=True, help="Identifiant de la collectivité.")
    def import_agents_command(path: Path, slug: str) -> None:
        """Importe des agents depuis un CSV (tout ou rien ; voir le README pour les colonnes)."""
        report = run_import(import_agents, path, slug)
        click.echo(f"Import terminé : {report.created} agent(s) créé(s), {report.updated} mis à jour.")

    @app.cli.command("import-units")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--institution", "slug", required=True, help="Identifiant de la collectivité.")
    def import_units_command(path: Path, slug: str) -> None:
        """Importe des directions et services depuis un CSV (tout ou rien ; voir le README)."""
        report = run_import(units_importer.import_units, path, slug)
        click.echo(f"Import terminé : {report.created} unité(s) créée(s), {report.updated} mise(s) à jour.")


    @app.cli.group("directory")
    def directory() -> None:
        """Annuaire LDAP / Active Directory."""

    @directory.command("sync")
    @click.option("--institution", "slug", default=None,
                  help="Identifiant de la collectivité alimentée (défaut : DIRECTORY_INSTITUTION).")
    @click.option("--dry-run", is_flag=True, help="Montrer les changements sans rien écrire.")
    @click.option("--force", is_flag=True,
                  help="Passer outre le frein de sécurité (aucun agent lu, trop de départs).")
    def directory_sync(slug: str | None, dry_run: bool, force: bool) -> None:
        """Met à jour agents et services depuis l'annuaire (code 1 si l'annuaire est illisible ou si
        le frein de sécurité refuse)."""
        from .directory.reader import read_directory
        from .directory.settings import DirectoryError, read_settings
        from .directory.sync import SyncRefused, synchronise

        try:
            settings = read_settings(app.config)
        except DirectoryError as exc:
            click.echo(f"Erreur : {exc.message}", err=True)
            sys.exit(1)
        slug = slug or settings.institution
        if not slug:
            click.echo("Erreur : précisez la collectivité alimentée (--institution ou "
                       "DIRECTORY_INSTITUTION).", err=True)
            sys.exit(1)
        institution = institution_by_slug(slug)
        try:
            agents, units = read_directory(settings)
        except DirectoryError as exc:
            click.echo(f"Erreur : {exc.message.rstrip('.')}. Rien n'a été écrit.", err=True)
            sys.exit(1)
        click.echo(f"Annuaire {settings.url}, branche {settings.base_dn}, "
                   f"collectivité « {institution.name} »"
                   + (" — simulation (--dry-run) : rien ne sera écrit." if dry_run else "."))
        try:
            report = synchronise(institution, agents, units, settings=settings, force=force)
        except SyncRefused as exc:
            db.session.rollback()
            for line in exc.report.lines():
                click.echo(line)
            click.echo(f"Synchronisation refusée : {exc.report.refusal}", err=True)
            sys.exit(1)
        except Exception:
            db.session.rollback()
            raise
        for line in report.lines():
            click.echo(line)
        if report.refusal:
            click.echo(f"Frein de sécurité levé par --force : {report.refusal}")
        if dry_run:
            db.session.rollback()
            click.echo("Simulation (--dry-run) : rien n'a été écrit.")
        else:
            db.session.commit()
