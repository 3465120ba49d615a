"""The nginx + gunicorn stack of the module (see stack.py), and its logs shown on failure."""

from __future__ import annotations

import pytest

from .stack import Stack, running_stack


@pytest.fixture(scope="module")
def stack(server, database_url) -> Stack:
    """`server` has migrated the database of the phase (SQLite file or PostgreSQL)."""
    with running_stack(database_url) as running:
        yield running


@pytest.fixture(autouse=True)
def logs_on_failure(stack):
    """After each test, the end of the logs: pytest shows them when the test failed."""
    yield
    print(stack.logs())
