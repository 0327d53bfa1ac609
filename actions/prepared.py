"""Queries compiled once per process, run with each request's values.

Building a queryset with a few nested EXISTS (the access check of a fiche) or a UNION of the
histories (its journal) costs the ORM more Python than the database spends answering it: a
fiche page spent more than half its time building SQL that never changes but for the user, the
fiche and the day. A `Prepared` query is built once by the ORM, with stand-in values, compiled
to SQL, and then run with the real values bound in place of the stand-ins: the same SQL the
ORM would have written, with none of its building.

The querysets themselves stay where they are (the permission rules in the models' querysets,
the journal in actions/journal.py): a `Prepared` only remembers their SQL. Should a stand-in
come out in the SQL's text rather than as a parameter, or the ORM find the query empty without
asking the database, the query is not prepared and runs through the ORM each time, as before.
"""

from __future__ import annotations

import datetime
import threading
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connections
from django.db.models.query import ModelIterable, ValuesIterable, ValuesListIterable, get_related_populators

# Stand-ins: values no request sends, inside the range of their column (an integer lookup out
# of its column's range makes the ORM answer "no rows" without SQL).
USER_ID = 2_147_000_123
NUMBER = 32_749
TEXT = "\x1fprepared\x1f"
DAY = datetime.date(1901, 2, 3)
MOMENT = datetime.datetime(1901, 2, 3, 4, 5, 6, 789012, tzinfo=datetime.UTC)
OBJECT_ID = 2_147_000_321


@dataclass
class _Compiled:
    sql: str
    params: list
    slots: list[tuple[int, str, Callable]]  # (index in params, value's name, how to adapt it)
    compiler: object
    values: list[str] | None  # the names of a values() query's columns; None for models
    populators: list | None = None
    init_list: list[str] | None = None
    tuples: bool = False  # a values_list() query: rows as tuples


class Prepared:
    """`build(**stand_ins)` returns the queryset; `shape` names what changes its SQL besides
    the stand-ins (the user being a superuser…). `build` must depend on nothing else than its
    arguments (no `timezone.now()` inside: pass the day)."""

    def __init__(self, build: Callable, **stand_ins):
        self.build = build
        self.stand_ins = stand_ins
        self._cache: dict = {}
        self._lock = threading.Lock()

    def run(self, shape=(), *, using: str = "default", **values) -> list:
        connection = connections[using]
        key = (using, connection.vendor, shape)
        compiled = self._cache.get(key)
        if compiled is None:
            with self._lock:
                compiled = self._cache.get(key) or self._compile(connection, using, shape)
                self._cache[key] = compiled
        if compiled is False:  # could not be prepared: the ORM, every time
            return list(self.build(**values))
        params = list(compiled.params)
        for index, name, adapt in compiled.slots:
            params[index] = adapt(values[name])
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        return self._objects(compiled, rows, using)

    def _compile(self, connection, using, shape):
        queryset = self.build(**self.stand_ins)
        compiler = queryset.query.get_compiler(using=using)
        try:
            sql, params = compiler.as_sql()
        except Exception:  # EmptyResultSet and the like: not a query to prepare
            return False
        params = list(params)
        slots, found = [], set()
        for index, param in enumerate(params):
            for name, stand_in in self.stand_ins.items():
                adapt = _matches(param, _stand_in_value(stand_in), connection)
                if adapt is not None:
                    slots.append((index, name, adapt))
                    found.add(name)
                    break
        for name in set(self.stand_ins) - found:
            # Not a parameter: unused by this query, unless the ORM wrote it into the SQL.
            value = _stand_in_value(self.stand_ins[name])
            if str(value) in sql or (isinstance(value, datetime.date) and value.isoformat() in sql):
                return False
        if issubclass(queryset._iterable_class, ValuesIterable):
            query = queryset.query
            names = query.selected or [*query.extra_select, *query.values_select, *query.annotation_select]
            return _Compiled(sql, params, slots, compiler, list(names))
        if queryset._iterable_class is ValuesListIterable:
            return _Compiled(sql, params, slots, compiler, None, tuples=True)
        if not issubclass(queryset._iterable_class, ModelIterable):
            return False
        klass_info, select = compiler.klass_info, compiler.select
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        return _Compiled(
            sql,
            params,
            slots,
            compiler,
            None,
            populators=get_related_populators(klass_info, select, using),
            init_list=[f[0].target.attname for f in select[start:end]],
        )

    @staticmethod
    def _objects(compiled: _Compiled, rows, using) -> list:
        compiler = compiled.compiler
        if compiler.has_extra_select:
            rows = [row[: compiler.col_count] for row in rows]
        rows = compiler.results_iter(results=[rows])
        if compiled.values is not None:
            names = compiled.values
            return [dict(zip(names, row, strict=False)) for row in rows]
        if compiled.tuples:
            return [tuple(row) for row in rows]
        klass_info = compiler.klass_info
        model, (start, end) = (
            klass_info["model"],
            (
                klass_info["select_fields"][0],
                klass_info["select_fields"][-1] + 1,
            ),
        )
        objects = []
        for row in rows:
            obj = model.from_db(using, compiled.init_list, row[start:end])
            for populator in compiled.populators:
                populator.populate(row, obj)
            for name, position in compiler.annotation_col_map.items():
                setattr(obj, name, row[position])
            objects.append(obj)
        return objects


def _stand_in_value(stand_in):
    return getattr(stand_in, "pk", stand_in)


def _matches(param, stand_in, connection) -> Callable | None:
    """How to write a value where the stand-in came out as `param`; None if it did not."""
    if isinstance(stand_in, int) and isinstance(param, int) and not isinstance(param, bool):
        if param == stand_in:
            wrap = type(param)  # psycopg's Int2, Int4… keep the type the ORM chose
            return _same if wrap is int else (lambda value: wrap(_same(value)))
        return None
    if type(param) is type(stand_in) and param == stand_in:
        return _same
    if isinstance(stand_in, datetime.datetime):
        adapt = connection.ops.adapt_datetimefield_value  # SQLite's: text in UTC
        return adapt if param == adapt(stand_in) else None
    if isinstance(stand_in, datetime.date) and param == stand_in.isoformat():
        return _isoformat  # SQLite's adaptation of a date
    return None


def _same(value):
    return getattr(value, "pk", value)


def _isoformat(value):
    return value.isoformat()


def stand_in_user(*, superuser: bool):
    """A user who is no one, to build a query that reads the user's id."""
    from django.contrib.auth import get_user_model

    user = get_user_model()(pk=USER_ID, is_superuser=superuser, is_active=True)
    user._state.adding = False
    return user


class PagedPrepared(Prepared):
    """A `Prepared` query read one page at a time: `run(limit=…, offset=…, **values)`, LIMIT and
    OFFSET bound as parameters (the ORM writes a slice's bounds into the SQL's text, which
    would make one SQL per page). `build` takes `limit` and `offset` too, and slices when
    given them: it is built unsliced once, and called with them where the query could not be
    prepared."""

    def _compile(self, connection, using, shape):
        compiled = super()._compile(connection, using, shape)
        if compiled:
            end = len(compiled.params)
            compiled.sql += " LIMIT %s OFFSET %s"
            compiled.params = [*compiled.params, 0, 0]
            compiled.slots = [*compiled.slots, (end, "limit", int), (end + 1, "offset", int)]
        return compiled
