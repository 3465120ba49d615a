"""gunicorn.conf.py's worker hook: the objects alive once the application is loaded are
frozen out of the garbage collector's walks (the reason and the measure are in the file)."""

import gc
import os
import runpy
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_worker_freezes_what_the_loaded_application_holds():
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert settings["worker_class"] == "gthread" and settings["threads"] >= 1
    before = gc.get_freeze_count()
    try:
        settings["post_worker_init"](worker=None)
        # The test process holds the application, its mappers and templates: all frozen.
        assert gc.get_freeze_count() > max(before, 10_000)
        assert gc.isenabled()  # frozen objects are skipped, new ones still collected
    finally:
        gc.unfreeze()


def test_the_default_is_one_single_threaded_process_per_core_and_the_environment_changes_it(monkeypatch):
    """The measured model (the reasons are in the file); a deployment whose requests wait on
    a slow identity provider raises the counts."""
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    monkeypatch.delenv("GUNICORN_THREADS", raising=False)
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert (settings["workers"], settings["threads"], settings["worker_connections"]) == (os.cpu_count(), 1, 1)
    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    monkeypatch.setenv("GUNICORN_THREADS", "2")
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert (settings["workers"], settings["threads"], settings["worker_connections"]) == (4, 2, 2)
