"""Statements compiled to SQL once per process, for the few a hot path runs thousands of times.

Django builds and compiles a queryset anew each time it is evaluated; for a select_related read
of seven tables, or for a one-row UPDATE, that costs more CPU than PostgreSQL spends answering.
Here a statement is built once, with stand-in values in place of its parameters; its SQL is
kept, and each later run only binds the real values:

- CompiledQuery: a read, turned into what the queryset would have returned: model instances
  (with their select_related objects, annotations and deferred fields) or `values_list` tuples,
  through the fields' own converters.
- CompiledUpdate: `queryset.update(**values)`, returning the number of rows changed.
- CompiledInsert: `Model.objects.create(**fields)`, preparing each value through its field as
  save() does. It sends no pre_save/post_save signals: use it for models nobody listens to.

Statements go through Django's cursor, so they are counted, logged and wrapped like any other."""

import threading
import weakref
from abc import ABC, abstractmethod
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from django.core.exceptions import ImproperlyConfigured
from django.db import connections, router, transaction
from django.db.models import sql

# get_related_populators: Django's own helper for select_related reads; private, so django-stubs
# does not declare it.
from django.db.models.query import ModelIterable, get_related_populators  # type: ignore[attr-defined]
from django.db.transaction import TransactionManagementError

# Values no real parameter takes, so their places in the compiled parameters can be found. The
# int is one a 32-bit positive column accepts: Django compiles a lookup of an out-of-range
# integer to "no rows" instead of to SQL.
_STAND_INS = {
    int: lambda n: 2_147_480_017 + n,
    str: lambda n: f"\x1fstand-in-{n}\x1f",
    datetime: lambda n: datetime(1, 1, 1, 0, 0, n, tzinfo=UTC),
}


_C = TypeVar("_C", bound="_Compiled")

# Every statement alive (the modules' ones, defined at import), for `compile_all`.
_every_statement: "weakref.WeakSet[_Statement[Any] | CompiledInsert]" = weakref.WeakSet()


def compile_all() -> None:
    """Compiles, for this thread, every statement of the modules imported so far. A worker does
    so as it starts (outreach.celery), so that its first tasks do not pay for it: compiling
    the send path's statements costs ~0.2 s of CPU, a hundred sends' worth of this module's
    savings."""
    # In a transaction: Django compiles a locking read only inside one. Nothing is run.
    with transaction.atomic():
        for statement in list(_every_statement):
            statement.compiled()


class _Statement(ABC, Generic[_C]):
    """Compiles on first use in each thread (a compiler belongs to one thread's connection).

    `build` receives one stand-in per kind and must use each as a plain value, in a lookup or
    an update that passes it to the SQL unchanged (exact, in, gt, lte...; not contains or
    endswith, which wrap it in wildcards). Real values are bound as they are: ints, strings,
    aware datetimes, or None where the column takes NULL (in a SET, not in a WHERE)."""

    def __init__(self, build, *kinds: type):
        self._build = build
        self._kinds = kinds
        self._local = threading.local()
        _every_statement.add(self)

    @abstractmethod
    def _compile(self, stand_ins: list[Any]) -> _C:
        """The statement built from the stand-ins, kept by each thread for its later runs."""

    def compiled(self) -> _C:
        """This thread's compiled statement, compiled on first use."""
        compiled: _C | None = getattr(self._local, "compiled", None)
        if compiled is None:
            stand_ins = [_STAND_INS[kind](n) for n, kind in enumerate(self._kinds)]
            compiled = self._local.compiled = self._compile(stand_ins)
            compiled.slots = _slots(compiled.params, stand_ins)
        return compiled

    def _run(self, values) -> tuple[_C, Any]:
        compiled = self.compiled()
        params = [values[slot] if slot is not None else value for slot, value in compiled.slots]
        connection = connections[compiled.db]
        if compiled.locks and connection.get_autocommit():
            # What Django checks when it compiles, checked on every run here.
            raise TransactionManagementError(
                "select_for_update cannot be used outside of a transaction."
            )
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            return compiled, cursor.fetchall() if compiled.returns_rows else cursor.rowcount


class _Compiled:
    locks = False
    returns_rows = True
    slots: list[tuple[int | None, Any]]  # set by _Statement, see _slots

    def __init__(self, db, sql_and_params):
        self.db = db
        self.sql, self.params = sql_and_params


class CompiledQuery(_Statement["_CompiledRead"]):
    """`CompiledQuery(lambda pk: Model.objects.filter(pk=pk), int)`; then `.all(5)`, `.first(5)`."""

    def all(self, *values) -> list[Any]:
        compiled, rows = self._run(values)
        return compiled.read(rows)

    def first(self, *values):
        rows = self.all(*values)
        return rows[0] if rows else None

    def _compile(self, stand_ins) -> "_CompiledRead":
        return _CompiledRead(self._build(*stand_ins))


class _CompiledRead(_Compiled):
    def __init__(self, queryset):
        compiler = queryset.query.get_compiler(using=queryset.db)
        super().__init__(queryset.db, compiler.as_sql())
        self.locks = bool(queryset.query.select_for_update)
        self.compiler = compiler
        # What results_iter() would work out again on every run: the converters of each column.
        columns = [column[0] for column in compiler.select[: compiler.col_count]]
        if compiler.has_composite_fields(columns):
            raise ImproperlyConfigured("a composite primary key is not supported here")
        self.converters = compiler.get_converters(columns)
        if queryset._iterable_class is not ModelIterable:
            self.read = self._rows
            return
        self.read = self._instances
        klass_info, select = compiler.klass_info, compiler.select
        fields = klass_info["select_fields"]
        self.model_slice = slice(fields[0], fields[-1] + 1)
        self.model = klass_info["model"]
        self.init_list = [column[0].target.attname for column in select[self.model_slice]]
        self.populators = get_related_populators(klass_info, select, self.db)
        self.annotations = list(compiler.annotation_col_map.items())

    def _converted(self, rows):
        """The rows as results_iter() gives them, through the converters kept."""
        if not self.converters:
            return rows
        return self.compiler.apply_converters(rows, self.converters)

    def _rows(self, rows):
        return [tuple(row) for row in self._converted(rows)]

    def _instances(self, rows):
        instances = []
        for row in self._converted(rows):
            instance = self.model.from_db(self.db, self.init_list, row[self.model_slice])
            for populator in self.populators:
                populator.populate(row, instance)
            for name, position in self.annotations:
                setattr(instance, name, row[position])
            instances.append(instance)
        return instances


class CompiledUpdate(_Statement[_Compiled]):
    """`CompiledUpdate(lambda pk, status: (Model.objects.filter(pk=pk), {"status": status}),
    int, str)`; then `.run(5, "sent")` returns how many rows changed."""

    def run(self, *values) -> int:
        _, count = self._run(values)
        return count

    def _compile(self, stand_ins) -> _Compiled:
        queryset, changes = self._build(*stand_ins)
        query = queryset.query.chain(sql.UpdateQuery)
        query.add_update_values(changes)
        db = router.db_for_write(queryset.model)
        compiled = _Compiled(db, query.get_compiler(db).as_sql())
        compiled.returns_rows = False
        return compiled


class CompiledInsert:
    """`CompiledInsert(Model).create(**fields)`: the new instance, saved, with its primary key."""

    def __init__(self, model):
        self._model = model
        self._local = threading.local()
        _every_statement.add(self)

    def compiled(self) -> tuple[str, list]:
        """This thread's statement (SQL and the columns it sets), built on first use."""
        statement = getattr(self._local, "statement", None)
        if statement is None:
            db = router.db_for_write(self._model)
            statement = self._local.statement = self._statement(connections[db])
        return statement

    def create(self, **fields):
        instance = self._model(**fields)
        db = router.db_for_write(self._model, instance=instance)
        connection = connections[db]
        sql_text, columns = self.compiled()
        params = [
            field.get_db_prep_save(field.pre_save(instance, True), connection) for field in columns
        ]
        with connection.cursor() as cursor:
            cursor.execute(sql_text, params)
            instance.pk = cursor.fetchone()[0]
        instance._state.adding, instance._state.db = False, db
        return instance

    def _statement(self, connection):
        meta, quote = self._model._meta, connection.ops.quote_name
        columns = [
            field
            for field in meta.local_concrete_fields
            if not field.generated and field is not meta.auto_field
        ]
        # Identifiers from the model's own metadata, quoted; every value is a bound parameter.
        sql_text = "INSERT INTO {} ({}) VALUES ({}) RETURNING {}".format(  # noqa: S608
            quote(meta.db_table),
            ", ".join(quote(field.column) for field in columns),
            ", ".join(["%s"] * len(columns)),
            quote(meta.pk.column),
        )
        return sql_text, columns


def _slots(params, stand_ins) -> list[tuple[int | None, Any]]:
    """For each compiled parameter: (which value of a run it takes, None) or (None, constant)."""
    slots = [
        (stand_ins.index(value), None) if _is_stand_in(value, stand_ins) else (None, value)
        for value in params
    ]
    missing = set(range(len(stand_ins))) - {slot for slot, _ in slots if slot is not None}
    if missing:
        raise ImproperlyConfigured(f"parameters {sorted(missing)} do not reach the SQL")
    return slots


def _is_stand_in(value, stand_ins) -> bool:
    return any(type(value) is type(s) and value == s for s in stand_ins)
