"""Logs: one access line per request, the request id, JSON lines, the level.

The lines are read as written, from stderr (capsys): the handler writes to the stderr of
the moment. Logging belongs to the process, so an app created here with other settings
changes the logs of the test client's server too; the level and format are put back
after each test."""

import json
import logging
import re

import pytest

from incubator import ConfigurationError, create_app
from incubator.observability import LOGGER_NAME
from tests.conftest import app_config
from tests.factories import make_user
from tests.helpers import text

ACCESS_LINE = re.compile(
    r"^(?P<time>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (?P<level>[A-Z]+) incubator\.access "
    r"\[(?P<request_id>[^\]]+)\] (?P<method>\S+) (?P<path>\S+) (?P<status>\d{3}) "
    r"(?P<duration>\d+\.\d) ms user=(?P<user>\S+) client=(?P<client>\S+)$", re.MULTILINE)
GENERATED_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture(autouse=True)
def restore_logging():
    logger = logging.getLogger(LOGGER_NAME)
    level, formatters = logger.level, [(h, h.formatter) for h in logger.handlers]
    yield
    logger.setLevel(level)
    for handler, formatter in formatters:
        handler.setFormatter(formatter)


def access_lines(capsys) -> list[dict]:
    return [m.groupdict() for m in ACCESS_LINE.finditer(capsys.readouterr().err)]


def test_anonymous_request_line(client, capsys):
    capsys.readouterr()
    response = client.get("/connexion?email=camille.martin@ville.fr")
    [line] = access_lines(capsys)
    assert (line["level"], line["method"], line["path"], line["status"]) == ("INFO", "GET", "/connexion", "200")
    assert (line["user"], line["client"]) == ("-", "127.0.0.1")
    assert line["request_id"] == response.headers["X-Request-ID"]
    assert float(line["duration"]) >= 0


def test_query_string_is_not_logged_and_the_path_cannot_forge_lines(client, capsys):
    capsys.readouterr()
    client.get("/propositions?q=camille.martin")
    client.get("/nulle-part%0A2030-01-01T00:00:00.000Z INFO incubator.access [x] GET /faux")
    err = capsys.readouterr().err
    assert "camille" not in err
    lines = [m.groupdict() for m in ACCESS_LINE.finditer(err)]
    assert [(line["path"], line["status"]) for line in lines] == [
        ("/propositions", "302"),
        ("/nulle-part%0A2030-01-01T00:00:00.000Z%20INFO%20incubator.access%20%5Bx%5D%20GET%20/faux", "404")]


def test_logged_in_request_line(client, login, capsys):
    user = make_user()
    login(client, user)
    capsys.readouterr()
    response = client.get("/")
    [line] = access_lines(capsys)
    assert (line["method"], line["path"], line["status"]) == ("GET", "/", "200")
    assert (line["user"], line["client"], line["request_id"]) == (
        str(user.id), "127.0.0.1", response.headers["X-Request-ID"])


def test_not_found_and_server_error_lines_name_the_person(client, login, capsys, monkeypatch):
    user = make_user()
    login(client, user)
    capsys.readouterr()
    assert client.get("/page-qui-n-existe-pas").status_code == 404
    [line] = access_lines(capsys)
    assert (line["path"], line["status"], line["user"]) == ("/page-qui-n-existe-pas", "404", str(user.id))

    def broken(*_args, **_kwargs):
        raise RuntimeError("requête impossible")

    monkeypatch.setattr("incubator.proposals.queries.board_query", broken)
    response = client.get("/propositions")
    assert response.status_code == 500
    err = capsys.readouterr().err
    [line] = [m.groupdict() for m in ACCESS_LINE.finditer(err)]
    assert (line["path"], line["status"], line["user"]) == ("/propositions", "500", str(user.id))
    request_id = response.headers["X-Request-ID"]
    assert line["request_id"] == request_id
    # The error, with its traceback, under the same request id; the page gives it as reference.
    assert f"ERROR incubator [{request_id}] Erreur non gérée sur GET /propositions\nTraceback" in err
    assert "RuntimeError: requête impossible" in err
    page = text(response)
    assert request_id in page and "requête impossible" not in page and "Traceback" not in page


def test_request_id_is_echoed_reused_when_sane_and_replaced_otherwise(client, capsys):
    assert client.get("/connexion", headers={"X-Request-ID": "lb-2f1c.7_A"}).headers["X-Request-ID"] == "lb-2f1c.7_A"
    assert client.get("/connexion", headers={"X-Request-ID": "a" * 64}).headers["X-Request-ID"] == "a" * 64
    for insane in ["a" * 65, "deux mots", "x] INFO faux", "référence", ""]:
        echoed = client.get("/connexion", headers={"X-Request-ID": insane}).headers["X-Request-ID"]
        assert GENERATED_ID.fullmatch(echoed), (insane, echoed)
    first, second = (client.get("/healthz").headers["X-Request-ID"] for _ in range(2))
    assert GENERATED_ID.fullmatch(first) and first != second
    assert client.get("/nulle-part").headers["X-Request-ID"]  # error pages too
    logged = [line["request_id"] for line in access_lines(capsys)]
    assert "lb-2f1c.7_A" in logged and not any(" " in rid or "é" in rid for rid in logged)


def test_json_lines(database_url, client, login, capsys, monkeypatch):
    create_app(app_config(database_url, LOG_FORMAT="json"))  # the process's format, the server's too
    user = make_user()
    monkeypatch.setattr("incubator.proposals.queries.board_query", lambda *a, **k: 1 / 0)
    capsys.readouterr()
    client.get("/connexion", headers={"X-Request-ID": "req-1"})
    login(client, user)
    response = client.get("/propositions")
    entries = [json.loads(line) for line in capsys.readouterr().err.splitlines()]  # every line is JSON
    access = [e for e in entries if e["logger"] == "incubator.access" and e["method"] == "GET"]
    assert [(e["method"], e["path"], e["status"], e["request_id"]) for e in access] == [
        ("GET", "/connexion", 200, "req-1"), ("GET", "/propositions", 500, response.headers["X-Request-ID"])]
    for entry in access:
        assert entry["level"] == "INFO" and entry["client"] == "127.0.0.1"
        assert isinstance(entry["duration_ms"], float) and re.fullmatch(r"\d{4}-.*T.*\.\d{3}Z", entry["time"])
        assert "traceback" not in entry
    assert [e["user_id"] for e in access] == ["-", str(user.id)]
    [error] = [e for e in entries if e["level"] == "ERROR"]
    assert error["logger"] == "incubator" and error["message"] == "Erreur non gérée sur GET /propositions"
    assert error["request_id"] == response.headers["X-Request-ID"]
    assert error["traceback"].startswith("Traceback") and "ZeroDivisionError" in error["traceback"]


def test_log_level_from_settings_and_environment(database_url, client, capsys, monkeypatch):
    create_app(app_config(database_url, LOG_LEVEL="WARNING"))
    capsys.readouterr()
    client.get("/connexion")
    assert access_lines(capsys) == []

    monkeypatch.setenv("INCUBATEUR_LOG_LEVEL", "DEBUG")
    create_app(app_config(database_url))
    client.get("/healthz")
    client.get("/static/css/app.css")
    [health, static] = access_lines(capsys)
    assert (health["level"], health["path"], static["level"]) == ("DEBUG", "/healthz", "DEBUG")

    monkeypatch.delenv("INCUBATEUR_LOG_LEVEL")
    create_app(app_config(database_url))  # INFO by default: health checks stay quiet
    client.get("/healthz")
    client.get("/connexion")
    assert [(line["level"], line["path"]) for line in access_lines(capsys)] == [("INFO", "/connexion")]


@pytest.mark.parametrize("setting", [{"LOG_LEVEL": "BAVARD"}, {"LOG_FORMAT": "xml"}])
def test_unknown_level_or_format_is_a_clear_error(database_url, setting):
    with pytest.raises(ConfigurationError, match="LOG_(LEVEL|FORMAT) inconnu"):
        create_app(app_config(database_url, **setting))
