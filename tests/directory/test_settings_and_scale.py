"""Settings as an operator writes them (environment included), keys as Active Directory gives
them, and a sync that reads the database in the same number of queries whatever the size of
the directory."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import event

from incubator import create_app
from incubator.directory.reader import _key, read_directory
from incubator.directory.settings import DEFAULT_ATTRIBUTES, DirectoryError, read_settings
from incubator.directory.sync import synchronise
from incubator.extensions import db
from tests.conftest import app_config
from tests.factories import make_institution

from . import conftest
from .conftest import ROOT_PASSWORD


def test_environment_values_keep_their_type(monkeypatch, database_url, directory):
    """Flask reads INCUBATEUR_* as JSON: a password of digits must still be sent as text,
    and one attribute can be changed without restating the others."""
    for key, value in directory.config().items():
        monkeypatch.setenv(f"INCUBATEUR_{key}", str(value))
    monkeypatch.setenv("INCUBATEUR_DIRECTORY_ATTRIBUTES", '{"unit": "ou", "category": ""}')
    monkeypatch.setenv("INCUBATEUR_DIRECTORY_START_TLS", "false")
    app = create_app(app_config(database_url))
    assert app.config["DIRECTORY_BIND_PASSWORD"] == int(ROOT_PASSWORD)  # what Flask made of it
    settings = read_settings(app.config)
    assert settings.bind_password == ROOT_PASSWORD and settings.page_size == 3
    assert settings.attributes == {**DEFAULT_ATTRIBUTES, "unit": "ou", "category": ""}
    assert settings.start_tls is False
    agents, _units = read_directory(settings)  # the server accepts the password
    assert len(agents) == 8 and agents[0].category is None


@pytest.mark.parametrize("raw, parsed", [("1e3", 1000.0), ("true", True), ("12.50", 12.5)])
def test_text_settings_from_the_environment_are_the_text_typed(monkeypatch, raw, parsed):
    monkeypatch.setenv("INCUBATEUR_DIRECTORY_BIND_PASSWORD", raw)
    settings = read_settings({"DIRECTORY_URL": "ldaps://annuaire.ville.fr", "DIRECTORY_BASE_DN": "dc=ville,dc=fr",
                              "DIRECTORY_BIND_PASSWORD": parsed})
    assert settings.bind_password == raw


def test_bad_settings_are_all_named_in_french():
    with pytest.raises(DirectoryError) as caught:
        read_settings({"DIRECTORY_URL": "annuaire", "DIRECTORY_ATTRIBUTES": {"couleur": "x", "key": ""},
                       "DIRECTORY_MAX_DEACTIVATION_PERCENT": "beaucoup", "DIRECTORY_DEFAULT_CATEGORY": "D"})
    message = caught.value.message
    for expected in ("DIRECTORY_URL invalide", "DIRECTORY_BASE_DN manquante", "« couleur » inconnu",
                     "« key » ne peut pas être désactivé", "DIRECTORY_MAX_DEACTIVATION_PERCENT invalide",
                     "DIRECTORY_DEFAULT_CATEGORY invalide"):
        assert expected in message


def test_active_directory_object_guid_is_read_as_a_uuid():
    guid = uuid.uuid4()
    assert _key({"objectguid": [guid.bytes_le]}, "objectGUID") == str(guid)
    assert _key({"entryuuid": [b"6c0e4f9a-1b2c-4d3e-8f00-000000000001"]}, "entryUUID") == \
        "6c0e4f9a-1b2c-4d3e-8f00-000000000001"


def test_the_database_is_read_in_the_same_number_of_queries_whatever_the_size(app, directory):
    institution = make_institution()
    settings = read_settings(app.config | directory.config())

    def queries() -> int:
        agents, units = read_directory(settings)
        statements = []

        def count(*_args):
            statements.append(1)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            synchronise(institution, agents, units, settings=settings)
            db.session.flush()
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        db.session.commit()
        return len(statements)

    queries()  # creates the 8 agents and the units
    small = queries()
    for n in range(40, 45):
        directory.add_agent(f"extra{n}", "Agent", f"Numero{n}", f"2{n:03}", "DRH", "C", "drh")
    created = queries()
    directory.modify("rh1", sn="Petit-Martin")
    directory.modify("extra40", sn="Quarante", departmentNumber="DST")
    updated = queries()
    for n in range(40):
        directory.add_agent(f"extra{n}", "Agent", f"Numero{n}", f"2{n:03}", "DRH", "C", "drh")
    assert queries() == created  # creates the 40 others, in the units that exist
    assert queries() == small
    directory.modify("rh1", sn="Petit-Dubois")
    directory.modify("extra7", sn="Sept", departmentNumber="DST")
    assert queries() == updated


@pytest.mark.parametrize("ci, outcome", [("true", pytest.fail.Exception), ("", pytest.skip.Exception)])
def test_without_slapd_the_tests_fail_in_ci_and_skip_elsewhere(monkeypatch, ci, outcome):
    monkeypatch.setattr(conftest, "_slapd_binary", lambda: None)
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match="slapd"):
        conftest.require_slapd()
