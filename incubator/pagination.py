"""Pages of long lists whose total is counted only up to a cap.

Counting 100,000 proposals to print "96 213 propositions" reads the whole index on every
display of the board, and the cost grows with the institution. Past a thousand results
nobody pages to the end: the list says "plus de 1 000" and invites to filter, and the
count stays as cheap at 100,000 proposals as at 1,000. Every page stays reachable:
there is always a link to the next one while rows remain.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from math import ceil
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_sqlalchemy.pagination import Pagination, SelectPagination
from jinja2 import pass_context
from jinja2.runtime import Context
from sqlalchemy.orm import aliased

from .extensions import db

# Below this many, a list's keys are fetched in one query that also counts them (a search
# and its cap); from it on, the page's keys are fetched and the count is a query of its own.
KEYS_COUNTED_AT_MOST = 500

# The statements a list derives from its select (its page of rows or of keys, its count),
# with the limit and offset as parameters: built once per select object, so that a list
# whose select is built once per process (dbutil.prebuilt, its values as parameters) has
# its page's statements built once too. Building one, and its cache key, cost as much as
# running it (bench, issue 21).
_DERIVED: weakref.WeakKeyDictionary[sa.Select, dict[str, sa.Select]] = weakref.WeakKeyDictionary()
_LIMIT, _OFFSET = sa.bindparam("page_limit", type_=sa.Integer), sa.bindparam("page_offset", type_=sa.Integer)
_COUNT_LIMIT = sa.bindparam("count_limit", type_=sa.Integer)


def _derived(select: sa.Select, name: str, build: Callable[[sa.Select], sa.Select]) -> sa.Select:
    statements = _DERIVED.get(select)
    if statements is None:
        statements = _DERIVED[select] = {}
    if name not in statements:
        statements[name] = build(select)
    return statements[name]


def _rows_page(select: sa.Select) -> sa.Select:
    return select.limit(_LIMIT).offset(_OFFSET)


def _keys(key: Any) -> Callable[[sa.Select], sa.Select]:
    return lambda select: select.with_only_columns(key, maintain_column_froms=True)


def _capped_count(select: sa.Select, limit: sa.BindParameter = _LIMIT) -> sa.Select:
    # A constant, not the rows: with a LIMIT the database cannot drop the subquery's
    # columns, and counting from the index alone is what keeps this cheap.
    sub = select.with_only_columns(sa.literal(1), maintain_column_froms=True).order_by(None).limit(limit).subquery()
    return sa.select(sa.func.count()).select_from(sub)


def _count(select: sa.Select) -> sa.Select:
    sub = select.with_only_columns(sa.literal(1), maintain_column_froms=True).order_by(None).subquery()
    return sa.select(sa.func.count()).select_from(sub)


def _page_with_count(capped: bool) -> Callable[[sa.Select], sa.Select]:
    """The page of `select` (rows or keys) with the list's count as a last column: one
    query instead of two. The count does not depend on the row (the database computes it
    once, SQLite's constant subquery and PostgreSQL's InitPlan); on PostgreSQL each query
    is a round trip, and on a loaded server each round trip a wait."""
    def build(select: sa.Select) -> sa.Select:
        count = (_capped_count(select, _COUNT_LIMIT) if capped else _count(select)).correlate(None)
        return _rows_page(select.add_columns(count.scalar_subquery().label("list_count")))
    return build


class CappedPagination(SelectPagination):
    """Flask-SQLAlchemy's pagination, with `total` counted up to the cap (or just past the
    current page; no cap: everything) and `more` true when rows remain beyond the count."""

    more: bool = False

    def _limit(self) -> int | None:
        cap = self._query_args["cap"]
        return None if cap is None else max(cap, self._query_offset + self.per_page)

    def _execute(self, statement: sa.Select, **page: int):
        return self._query_args["session"].execute(statement, {**self._query_args["params"], **page})

    def _counted_page(self, select: sa.Select, name: str) -> list[Any]:
        """The page's rows (or keys) and, with them, the count (_query_count)."""
        limit = self._limit()
        page = {"page_limit": self.per_page, "page_offset": self._query_offset}
        if limit is not None:
            page["count_limit"] = limit + 1
        rows = self._execute(_derived(select, f"{name}:{limit is not None}", _page_with_count(limit is not None)), **page)
        rows = rows.unique().all()
        if rows:  # an empty page says nothing of the list: it is counted on its own
            self._counted = rows[0][-1]
        return [row[0] for row in rows]

    def _query_items(self) -> list[Any]:
        select, key, load = self._query_args["select"], self._query_args.get("key"), self._query_args.get("load")
        if key is None:
            return self._counted_page(select, "rows")
        # Keys first, in the list's order (the database sorts keys, not wide rows with their
        # joined authors and units), then the page's rows.
        keys = _derived(select, "keys", _keys(key))
        limit = self._limit()
        if limit is not None and limit < KEYS_COUNTED_AT_MOST:
            # A search's few keys: one query gives both the page and the (capped) count,
            # instead of running the search twice.
            found = self._execute(_derived(keys, "first", lambda keys: keys.limit(_LIMIT)),
                                  page_limit=limit + 1).scalars().all()
            self._counted = len(found)
            page_keys = found[self._query_offset:self._query_offset + self.per_page]
        else:
            # A thousand keys cost more to fetch into Python than to count in the database:
            # only the page's are fetched, the count beside them.
            page_keys = self._counted_page(keys, "keys")
        return load(page_keys) if page_keys else []

    def _query_count(self) -> int:
        limit = self._limit()
        found = getattr(self, "_counted", None)
        if found is None:
            select = self._query_args["select"]
            if limit is None:
                found = self._execute(_derived(select, "count", _count)).scalar()
            else:
                found = self._execute(_derived(select, "capped_count", _capped_count), page_limit=limit + 1).scalar()
        if limit is None:
            return found
        self.more = found > limit
        return min(found, limit)

    @property
    def pages(self) -> int:
        if not self.total:
            return 0
        # While rows remain past the count, one more page is known to exist.
        return ceil(self.total / self.per_page) + (1 if self.more and self.total % self.per_page == 0 else 0)


def paginate_capped(select: sa.Select, *, page: int, per_page: int, exact: bool = False,
                    key: Any = None, load: Callable[[list], list] | None = None, cap: int | None = None,
                    params: dict[str, Any] | None = None) -> Any:
    """`exact`: count everything (a list bounded by the number of agents, which its reader
    needs whole), still from the index alone. `key` and `load`: select the page's keys
    (`key`, in the list's order), then `load(keys)` returns their objects in that order.
    `cap`: another cap than LIST_COUNT_CAP (a search's, SEARCH_COUNT_CAP). `params`: the
    values of the select's bindparams (a select built once, see dbutil.prebuilt). A page
    past the end gives the last one."""
    cap = None if exact else cap or current_app.config["LIST_COUNT_CAP"]

    def paginate(number: int) -> CappedPagination:
        return CappedPagination(select=select, session=db.session, page=number, per_page=per_page,
                                max_per_page=None, error_out=False, cap=cap, key=key, load=load,
                                params=params or {})

    found = paginate(page)
    if not found.items and page > 1 and found.total:
        # A page past the end (a link kept from when the list was longer): its last page,
        # rather than an empty list whose message says there is nothing at all.
        found = paginate(found.pages)
    return found


@pass_context
def list_page_title(context: Context) -> str:
    """What the page's <title> adds past the first page of a paginated list: " — page 2 sur
    17". Every page of a list has a title of its own (RGAA 8.6, issue 20), said once here for
    every list: the pagination the view gave its template, whatever its name."""
    for value in context.get_all().values():
        if isinstance(value, Pagination) and value.page > 1:
            if getattr(value, "more", False):
                return f" — page {value.page}"
            return f" — page {value.page} sur {value.pages}"
    return ""


def earlier_in_thread(model, before: sa.BindParameter) -> sa.ColumnElement[bool]:
    """Rows of `model` that come before the row `before` in a thread read newest first (its
    moment, then its number): the « earlier » pages of a proposal's comments or a project's
    progress updates, found by where the previous page stopped rather than by an OFFSET
    that rereads every newer row."""
    boundary = aliased(model)
    moment = sa.select(boundary.created_at).where(boundary.id == before).scalar_subquery()
    return sa.tuple_(model.created_at, model.id) < sa.tuple_(moment, before)
