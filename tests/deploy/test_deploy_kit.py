"""The deployment kit (deploy/) and the README's « Mise en production » agree with the code.

- every `flask …` command named in deploy/ or in the README's production section exists in
  the application's command line (resolved with `--help` through Flask's own CLI, plugins such
  as Flask-Migrate's `db` included): a unit or a step calling a missing command is a bug;
- every systemd unit is valid for `systemd-analyze verify` (paths moved to this checkout), and
  every file a unit names under /opt/incubateur/app exists in the repository;
- every timer has its service, every unit the README enables exists, every deploy/ file the
  README names exists;
- the environment file example names only settings the application (or gunicorn.conf.py)
  reads, and, read as the shell reads it, starts the application with the expected types,
  while its placeholder secret key is refused by `flask check`.

The last test plants one mistake of each kind and checks that the checks catch it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
from flask.cli import FlaskGroup, ScriptInfo

from incubator import create_app
from incubator.checks import ERROR, check_secret_key
from incubator.config import Defaults

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNITS = DEPLOY / "systemd"
ENV_EXAMPLE = DEPLOY / "incubateur.env.example"
APP_DIR = "/opt/incubateur/app"
VENV_DIR = "/opt/incubateur/venv"

# `flask`, `incubateur-flask` or "$venv/bin/flask", an optional `--app X`, then the words of
# the command path (lowercase words; an option, a path or punctuation ends it).
FLASK_CALL = re.compile(r'\bflask"?(?:[ ]+--app[ ]+\S+)?((?:[ ]+[a-z][a-z0-9-]*)+)')


# --------------------------------------------------------------------------- helpers


def production_section(readme: str) -> str:
    start = readme.index("\n## Mise en production\n")
    end = readme.find("\n## ", start + 1)
    return readme[start:end if end != -1 else len(readme)]


def deploy_texts() -> dict[str, str]:
    texts = {str(path.relative_to(ROOT)): path.read_text(encoding="utf-8")
             for path in sorted(DEPLOY.rglob("*")) if path.is_file()}
    texts["README.md (Mise en production)"] = production_section((ROOT / "README.md").read_text(encoding="utf-8"))
    return texts


def flask_calls(text: str) -> list[list[str]]:
    return [match.group(1).split() for match in FLASK_CALL.finditer(text)]


def root_cli(app) -> FlaskGroup:
    return FlaskGroup(create_app=lambda: app)


def command_path(cli: click.Group, app, words: list[str]) -> tuple[list[str], str | None]:
    """The longest command path the words name, and an error if the first word is no command
    or a group does not have the next word. Words after a (leaf) command are its arguments."""
    context = click.Context(cli, obj=ScriptInfo(create_app=lambda: app))
    current: click.Command = cli
    path: list[str] = []
    for word in words:
        if not isinstance(current, click.Group):
            break
        command = current.get_command(context, word)
        if command is None:
            where = "flask" if not path else f"flask {' '.join(path)}"
            return path, f"« {where} » n'a pas de commande « {word} »"
        path.append(word)
        current = command
    return path, None


def missing_commands(app, texts: dict[str, str]) -> list[str]:
    cli = root_cli(app)
    runner = app.test_cli_runner()
    problems = []
    for name, text in texts.items():
        for words in flask_calls(text):
            path, error = command_path(cli, app, words)
            if error:
                problems.append(f"{name} : {error} (flask {' '.join(words)})")
                continue
            result = runner.invoke(cli, [*path, "--help"])
            if result.exit_code != 0 or "Usage" not in result.output:
                problems.append(f"{name} : flask {' '.join(path)} --help a échoué ({result.output.strip()[:200]})")
    return problems


def unit_entries(text: str) -> list[tuple[str, str, str]]:
    """(section, key, value) of a unit file, in order (keys may repeat)."""
    entries, section = [], ""
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        entries.append((section, key.strip(), value.strip()))
    return entries


def unit_file_problems(name: str, text: str, root: Path = ROOT) -> list[str]:
    """Files a unit names in the application folder that the repository does not have."""
    problems = []
    entries = unit_entries(text)
    workdir = next((v for s, k, v in entries if k == "WorkingDirectory"), None)
    for _section, key, value in entries:
        for token in value.split():
            token = token.removeprefix("file:")
            if token.startswith(APP_DIR + "/"):
                relative = token[len(APP_DIR) + 1:]
                path = root / relative
                if not path.exists():
                    problems.append(f"{name} : {key} nomme {token}, absent du dépôt ({relative})")
                elif key.startswith("Exec") and token == value.split()[0] and not os.access(path, os.X_OK):
                    problems.append(f"{name} : {token} n'est pas exécutable (git update-index --chmod=+x)")
        if key == "ExecStart" and workdir == APP_DIR:
            words = value.split()
            for option in ("--config", "--app"):
                if option in words and words.index(option) + 1 < len(words):
                    target = words[words.index(option) + 1]
                    candidate = target if option == "--config" else target.split(":")[0] + ".py"
                    if not (root / candidate).exists():
                        problems.append(f"{name} : {option} {target} introuvable dans {APP_DIR}")
            for word in words[1:]:
                if re.fullmatch(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*", word):  # gunicorn's module:variable
                    module = word.split(":")[0].replace(".", "/") + ".py"
                    if not (root / module).exists():
                        problems.append(f"{name} : module WSGI {word} introuvable dans {APP_DIR}")
    return problems


def settings_read() -> set[str]:
    """Environment names the application and gunicorn.conf.py read."""
    names = {f"INCUBATEUR_{key}" for key in dir(Defaults) if key.isupper()}
    environ = re.compile(r"""os\.environ(?:\.get\(|\[)\s*["']([A-Z][A-Z0-9_]*)["']""")
    for path in (ROOT / "incubator" / "__init__.py", ROOT / "gunicorn.conf.py"):
        names |= set(environ.findall(path.read_text(encoding="utf-8")))
    return names


def env_names(text: str) -> list[str]:
    """Names set in an environment file, commented-out examples included."""
    return re.findall(r"^#?[ \t]*([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE)


def env_file_problems(text: str) -> list[str]:
    known = settings_read()
    return [f"{name} n'est lu ni par l'application ni par gunicorn.conf.py"
            for name in env_names(text) if name not in known]


def sourced(path: Path) -> dict[str, str]:
    """The variables the file sets, read by bash as incubateur-flask reads it."""
    script = 'set -a; . "$1"; set +a; env -0'
    output = subprocess.run(["bash", "-c", script, "bash", str(path)], capture_output=True, check=True,
                            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")}).stdout
    base = set(subprocess.run(["bash", "-c", "env -0"], capture_output=True, check=True,
                              env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")}).stdout.split(b"\0"))
    pairs = [item.decode() for item in output.split(b"\0") if item and item not in base]
    return dict(pair.split("=", 1) for pair in pairs)


# --------------------------------------------------------------------------- tests


def test_every_flask_command_named_exists(app):
    texts = deploy_texts()
    named = [words for text in texts.values() for words in flask_calls(text)]
    assert len(named) >= 10, named  # the README and the units do name commands: the search works
    assert missing_commands(app, texts) == []


def test_the_units_and_timers_the_kit_needs_are_there():
    names = {path.name for path in UNITS.iterdir()}
    for service in ("incubateur.service", "incubateur-email.service"):
        assert service in names
    for job in ("digest", "overdue", "retention", "backup", "search"):
        assert {f"incubateur-{job}.service", f"incubateur-{job}.timer"} <= names
    for timer in (n for n in names if n.endswith(".timer")):
        assert timer.removesuffix(".timer") + ".service" in names, timer
        assert ("Timer", "Persistent", "true") in unit_entries((UNITS / timer).read_text())


@pytest.mark.parametrize("unit", sorted(p.name for p in (ROOT / "deploy" / "systemd").glob("*.service")))
def test_each_service_runs_confined_as_the_application(unit):
    entries = set(unit_entries((UNITS / unit).read_text()))
    for expected in [("Service", "User", "incubateur"), ("Service", "WorkingDirectory", APP_DIR),
                     ("Service", "EnvironmentFile", "/etc/incubateur/incubateur.env"),
                     ("Service", "NoNewPrivileges", "true"), ("Service", "ProtectSystem", "strict"),
                     ("Service", "ReadWritePaths", "/var/lib/incubateur"),
                     ("Service", "PrivateTmp", "true"), ("Service", "ProtectHome", "true")]:
        assert expected in entries, (unit, expected)


def test_gunicorn_listens_on_loopback_and_reloads_gracefully():
    entries = unit_entries((UNITS / "incubateur.service").read_text())
    start = next(v for s, k, v in entries if k == "ExecStart")
    assert start.startswith(f"{VENV_DIR}/bin/gunicorn --config gunicorn.conf.py ")
    assert "--bind 127.0.0.1:8000" in start and start.endswith(" wsgi:app")
    assert ("Service", "ExecReload", "/bin/kill -HUP $MAINPID") in entries
    assert ("Service", "Restart", "on-failure") in entries


def test_units_name_only_files_of_the_repository():
    problems = [p for unit in sorted(UNITS.iterdir()) for p in unit_file_problems(unit.name, unit.read_text())]
    assert problems == []


def test_what_the_readme_names_exists():
    section = production_section((ROOT / "README.md").read_text(encoding="utf-8"))
    units = set(re.findall(r"\bincubateur(?:-[a-z]+)?\.(?:service|timer)\b", section))
    assert units and units <= {p.name for p in UNITS.iterdir()}, units
    files = set(re.findall(r"\bdeploy/[\w./*-]*[\w*]", section))  # globs too: incubateur*.timer
    missing = {f for f in files if not list(ROOT.glob(f))}
    assert files and not missing, missing
    for script in ("incubateur-flask", "incubateur-backup"):
        path = DEPLOY / "bin" / script
        assert os.access(path, os.X_OK), script
        assert "set -euo pipefail" in path.read_text()
        subprocess.run(["bash", "-n", str(path)], check=True)


def test_the_readme_commands_are_valid_shell():
    blocks = re.findall(r"```sh\n(.*?)```", production_section((ROOT / "README.md").read_text(encoding="utf-8")),
                        flags=re.DOTALL)
    assert len(blocks) >= 10
    for block in blocks:
        result = subprocess.run(["bash", "-n"], input=block, capture_output=True, text=True)
        assert result.returncode == 0, (block, result.stderr)


def test_systemd_analyze_verify_accepts_every_unit(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        if os.environ.get("CI"):  # make test installs it (scripts/system-deps.sh): never silently skipped
            pytest.fail("systemd-analyze absent (paquet Debian systemd) : scripts/system-deps.sh l'installe")
        pytest.skip("systemd-analyze absent (paquet Debian systemd)")
    venv = Path(sys.executable).parent.parent  # this environment stands for /opt/incubateur/venv
    for unit in UNITS.iterdir():
        text = unit.read_text().replace(VENV_DIR, str(venv)).replace(APP_DIR, str(ROOT))
        (tmp_path / unit.name).write_text(text)
    result = subprocess.run([analyze, "verify", *sorted(str(p) for p in tmp_path.iterdir())],
                            capture_output=True, text=True, timeout=120)
    # It says "Unknown key", "Failed to parse" or "not executable" without failing: any output is a fault.
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_env_example_names_only_settings_that_are_read():
    text = ENV_EXAMPLE.read_text(encoding="utf-8")
    assert len(env_names(text)) >= 15
    assert env_file_problems(text) == []


def test_env_example_starts_the_application_as_the_shell_reads_it(monkeypatch, tmp_path):
    values = sourced(ENV_EXAMPLE)
    assert values["INCUBATEUR_MAIL_SENDER"] == "Incubateur <ne-pas-repondre@exemple.fr>"
    for name in list(os.environ):
        if name.startswith("INCUBATEUR_") or name in ("SECRET_KEY", "DATABASE_URL"):
            monkeypatch.delenv(name)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("INCUBATEUR_INSTANCE_PATH", str(tmp_path))
    app = create_app()
    assert app.config["TRUSTED_PROXIES"] == 1
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://incubateur@/incubateur")
    assert app.config["BASE_URL"].startswith("https://")
    assert app.config["MAIL_PORT"] == 587 and app.config["MAIL_USE_TLS"] is True
    assert app.config["MAIL_USE_SSL"] is False and app.config["LOG_FORMAT"] == "json"
    # The placeholder must be replaced: flask check refuses it.
    assert [finding.level for finding in check_secret_key(app)] == [ERROR]


def test_the_checks_catch_what_they_look_for(app, tmp_path):
    planted = {
        "deploy/systemd/x.service": "ExecStart=/opt/incubateur/venv/bin/flask --app wsgi notifications frobnicate\n",
        "README.md": "incubateur-flask send-emails\nLancez `flask retention apply` puis `flask check`.\n",
    }
    assert missing_commands(app, planted) == [
        "deploy/systemd/x.service : « flask notifications » n'a pas de commande « frobnicate » "
        "(flask notifications frobnicate)",
        "README.md : « flask » n'a pas de commande « send-emails » (flask send-emails)",
    ]
    assert missing_commands(app, {"ok": "incubateur-flask db upgrade ; flask --app wsgi backup \"$t\""}) == []

    unit = ("[Service]\nWorkingDirectory=/opt/incubateur/app\n"
            "ExecStart=/opt/incubateur/venv/bin/gunicorn --config gunicorn.prod.py wsgi:application2\n"
            "ExecStartPost=/opt/incubateur/app/deploy/bin/absent\n")
    problems = unit_file_problems("x.service", unit)
    assert any("gunicorn.prod.py" in p for p in problems)
    assert any("deploy/bin/absent" in p for p in problems)
    assert unit_file_problems("y.service", "[Service]\nWorkingDirectory=/opt/incubateur/app\n"
                                           "ExecStart=/opt/incubateur/app/deploy/bin/incubateur-backup 14\n") == []

    assert env_file_problems("INCUBATEUR_DATABASE_URL=postgresql:///x\n# INCUBATEUR_MAIL_HOST=smtp\n"
                             "INCUBATEUR_MAIL_SERVER=smtp\nDATABASE_URL=x\nWEB_CONCURRENCY=2\n"
                             "INCUBATEUR_BASE_ADRESSE=x\n") == [
        "INCUBATEUR_MAIL_HOST n'est lu ni par l'application ni par gunicorn.conf.py",
        "INCUBATEUR_BASE_ADRESSE n'est lu ni par l'application ni par gunicorn.conf.py",
    ]
