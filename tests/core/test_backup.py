import sqlite3
import threading

import pytest

from incubator.backup import BackupError, backup, check, restore
from incubator.extensions import db
from tests.conftest import TEST_DATABASE_URL


def test_backup_refuses_postgresql_with_directions(app):
    if not TEST_DATABASE_URL:
        with pytest.raises(BackupError, match="pg_dump"):
            backup("postgresql+psycopg://u@h/db", None, __import__("pathlib").Path("/tmp"))
        return
    result = app.test_cli_runner().invoke(args=["backup"])
    assert result.exit_code == 1 and "pg_dump" in result.output


@pytest.mark.skipif(bool(TEST_DATABASE_URL), reason="sauvegarde SQLite (PostgreSQL : pg_dump, test ci-dessus)")
def test_backup_under_write_load_round_trips(app, tmp_path, database_url):
    db.session.commit()
    path = database_url.removeprefix("sqlite:///")
    # Several megabytes, as a real database: a copy made in many small steps would restart
    # at every write and never end under this load.
    with sqlite3.connect(path) as connection:
        connection.executemany("INSERT INTO audit_events (action, data, is_public, created_at) "
                               "VALUES ('test.bulk', ?, 0, '2026-01-01 00:00:00')",
                               [(f'{{"n": {i}, "text": "{"x" * 2000}"}}',) for i in range(3000)])
    stop = threading.Event()
    written = []
    progress = threading.Condition()

    def writer():
        connection = sqlite3.connect(path, timeout=30)
        n = 0
        while not stop.is_set():
            with connection:
                connection.execute("INSERT INTO audit_events (action, data, is_public, created_at) "
                                   "VALUES ('test.load', '{}', 0, '2026-01-01 00:00:00')")
            n += 1
            with progress:
                written.append(n)
                progress.notify_all()
        connection.close()

    def wait_for_writes(count: int) -> None:
        with progress:
            assert progress.wait_for(lambda: len(written) >= count, timeout=60), len(written)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        wait_for_writes(50)  # the load is on when the backup starts
        before = len(written)
        target = backup(database_url, tmp_path / "copie.db", tmp_path)
        after = len(written)
        wait_for_writes(after + 50)  # and goes on after it
    finally:
        stop.set()
        thread.join()
    assert check(target)  # sound, with a schema revision
    copied = sqlite3.connect(target).execute("SELECT count(*) FROM audit_events WHERE action = 'test.load'").fetchone()[0]
    assert before <= copied <= after + 1
    # Restore into a fresh database file, then read it back.
    fresh = tmp_path / "restauree.db"
    sqlite3.connect(fresh).close()
    restore(f"sqlite:///{fresh}", target)
    assert sqlite3.connect(fresh).execute("SELECT count(*) FROM audit_events WHERE action = 'test.load'").fetchone()[0] == copied
    # The command line, with the default folder.
    result = app.test_cli_runner().invoke(args=["backup"])
    assert result.exit_code == 0 and "Sauvegarde écrite" in result.output


def test_restore_refuses_what_is_not_a_backup(app, tmp_path):
    junk = tmp_path / "pas-une-base.db"
    junk.write_bytes(b"ceci n'est pas une base")
    with pytest.raises(BackupError):
        check(junk)
    empty = tmp_path / "vide.db"
    sqlite3.connect(empty).execute("CREATE TABLE x (y)").connection.close()
    with pytest.raises(BackupError):
        check(empty)
    result = app.test_cli_runner().invoke(args=["restore", str(junk), "--yes"])
    assert result.exit_code == 1 and "Erreur" in result.output
