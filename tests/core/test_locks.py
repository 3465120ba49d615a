"""The lock files in requirements/ are what `make run`, `make test` and the dependency audit
install or read: they must pin, with hashes, every dependency pyproject.toml declares, within
its declared range, and agree with each other."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
RUN_LOCK = ROOT / "requirements" / "run.txt"
TEST_LOCK = ROOT / "requirements" / "test.txt"


def read_lock(path: Path) -> dict[str, tuple[str, int, str]]:
    """name → (version, number of hashes, marker) for each pin `name==version [; marker]`."""
    pins: dict[str, tuple[str, int, str]] = {}
    text = path.read_text(encoding="utf-8").replace("\\\n", " ")
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.match(r"([A-Za-z0-9._-]+)==([^\s;]+)\s*(?:;\s*(.*?))?\s*((?:--hash=\S+\s*)*)$", line)
        assert match, f"{path.name} : ligne non épinglée « {line[:80]} »"
        name, version, marker, hashes = match.groups()
        pins[canonicalize_name(name)] = (version, hashes.count("--hash="), (marker or "").strip())
    return pins


def declared(extra: str | None = None) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = project["dependencies"] if extra is None else project["optional-dependencies"][extra]
    return [Requirement(spec) for spec in names]


def check_covers(lock: dict[str, tuple[str, int, str]], requirements: list[Requirement], lock_name: str) -> None:
    environment = default_environment()
    for requirement in requirements:
        if requirement.marker and not requirement.marker.evaluate(environment):
            continue
        name = canonicalize_name(requirement.name)
        assert name in lock, f"{requirement.name} manque dans {lock_name} : lancez make lock"
        version = lock[name][0]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{lock_name} épingle {requirement.name}=={version}, hors de « {requirement.specifier} » "
            "demandé par pyproject.toml : lancez make lock")


def test_every_pin_has_hashes():
    for path in (RUN_LOCK, TEST_LOCK):
        for name, (version, hashes, _marker) in read_lock(path).items():
            assert hashes >= 1, f"{path.name} : {name}=={version} sans empreinte (--hash)"


def test_the_runtime_lock_covers_the_runtime_dependencies_and_nothing_for_tests():
    run = read_lock(RUN_LOCK)
    check_covers(run, declared(), "requirements/run.txt")
    for requirement in declared("test"):
        assert canonicalize_name(requirement.name) not in run, (
            f"{requirement.name} (outil de test) ne doit pas être installé par make run")


def test_the_test_lock_holds_the_runtime_pins_and_the_test_tools():
    run, test = read_lock(RUN_LOCK), read_lock(TEST_LOCK)
    check_covers(test, declared() + declared("test"), "requirements/test.txt")
    for name, (version, _hashes, _marker) in run.items():
        assert test.get(name, (None,))[0] == version, (
            f"{name} : {version} dans run.txt, {test.get(name, ('absent',))[0]} dans test.txt : "
            "lancez make lock")


def test_a_missing_or_out_of_range_pin_is_caught(tmp_path):
    lock = tmp_path / "run.txt"
    lock.write_text("flask==2.3.0 \\\n    --hash=sha256:" + "0" * 64 + "\n", encoding="utf-8")
    pins = read_lock(lock)
    with pytest.raises(AssertionError, match="hors de"):
        check_covers(pins, [Requirement("Flask>=3.0,<4")], "run.txt")
    with pytest.raises(AssertionError, match="manque"):
        check_covers(pins, [Requirement("gunicorn>=22")], "run.txt")
