"""Reads compiled to SQL once per process, for the statements a hot path runs thousands of times.

Django builds and compiles a queryset anew each time it is evaluated; for a select_related read
of seven tables that costs more CPU than PostgreSQL spends answering it. A CompiledQuery builds
its queryset once, with stand-in values in place of its parameters, keeps the SQL, and then only
runs that SQL with the real values, turning the rows into what the queryset would have returned:
model instances (with their select_related objects, annotations and deferred fields) or
`values_list` tuples, through the fields' own converters.

Queries go through Django's cursor, so they are counted, logged and wrapped like any other."""

import threading
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.db.models.query import ModelIterable, get_related_populators
from django.db.transaction import TransactionManagementError

# Values no real parameter takes, so their places in the compiled parameters can be found. The
# int is one a 32-bit positive column accepts: Django compiles a lookup of an out-of-range
# integer to "no rows" instead of to SQL.
_STAND_INS = {
    int: lambda n: 2_147_480_017 + n,
    str: lambda n: f"\x1fstand-in-{n}\x1f",
    datetime: lambda n: datetime(1, 1, 1, 0, 0, n, tzinfo=UTC),
}


class CompiledQuery:
    """`CompiledQuery(lambda pk: Model.objects.filter(pk=pk), int)`; then `query.all(5)`,
    `query.first(5)`. `build` must use each parameter as a plain value of the kind given, in a
    lookup that passes it to the SQL unchanged (exact, in, gt, lte...; not contains or
    endswith, which wrap it in wildcards)."""

    def __init__(self, build, *kinds: type):
        self._build = build
        self._kinds = kinds
        self._local = threading.local()  # a compiler belongs to one thread's connection

    def all(self, *values) -> list[Any]:
        compiled = self._compiled()
        params = [values[slot] if slot is not None else value for slot, value in compiled.params]
        connection = connections[compiled.db]
        if compiled.locks and connection.get_autocommit():
            # What Django checks when it compiles, checked on every run here.
            raise TransactionManagementError(
                "select_for_update cannot be used outside of a transaction."
            )
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        return compiled.read(rows)

    def first(self, *values):
        rows = self.all(*values)
        return rows[0] if rows else None

    def _compiled(self) -> "_Compiled":
        compiled = getattr(self._local, "compiled", None)
        if compiled is None:
            compiled = self._local.compiled = _Compiled(self._build, self._kinds)
        return compiled


class _Compiled:
    def __init__(self, build, kinds):
        stand_ins = [_STAND_INS[kind](n) for n, kind in enumerate(kinds)]
        queryset = build(*stand_ins)
        self.db = queryset.db
        self.locks = queryset.query.select_for_update
        compiler = queryset.query.get_compiler(using=self.db)
        self.sql, params = compiler.as_sql()
        self.params = [
            (stand_ins.index(value), None) if _is_stand_in(value, stand_ins) else (None, value)
            for value in params
        ]
        missing = set(range(len(kinds))) - {slot for slot, _ in self.params if slot is not None}
        if missing:
            raise ImproperlyConfigured(f"parameters {sorted(missing)} do not reach the SQL")
        self.compiler = compiler
        if queryset._iterable_class is ModelIterable:
            self.read = self._instances
            klass_info, select = compiler.klass_info, compiler.select
            fields = klass_info["select_fields"]
            self.model_slice = slice(fields[0], fields[-1] + 1)
            self.model = klass_info["model"]
            self.init_list = [column[0].target.attname for column in select[self.model_slice]]
            self.populators = get_related_populators(klass_info, select, self.db)
            self.annotations = list(compiler.annotation_col_map.items())
        else:
            self.read = self._rows

    def _rows(self, rows):
        return list(self.compiler.results_iter(results=[rows], tuple_expected=True))

    def _instances(self, rows):
        instances = []
        for row in self.compiler.results_iter(results=[rows]):
            instance = self.model.from_db(self.db, self.init_list, row[self.model_slice])
            for populator in self.populators:
                populator.populate(row, instance)
            for name, position in self.annotations:
                setattr(instance, name, row[position])
            instances.append(instance)
        return instances


def _is_stand_in(value, stand_ins) -> bool:
    return any(type(value) is type(s) and value == s for s in stand_ins)
