"""`field__in_array=[...]`: Django's `__in`, sent to PostgreSQL as one array.

`__in` puts a placeholder per value in the SQL: a search's 2,000 ids made a query that
psycopg splits anew each time (it caches only statements of up to 50 parameters) and that
PostgreSQL parses value by value. Counting 2,000 cases by their ids took 12.7 ms so, and
2.6 ms as `id = ANY(%s)` with one array (bench/lists.py's searches send such lists twice).
Elsewhere (SQLite) it is `__in` itself.
"""

from django.db.models import Field, ForeignObject
from django.db.models.expressions import ColPairs
from django.db.models.fields.related_lookups import RelatedIn
from django.db.models.lookups import In


class ArrayParameterMixin:
    lookup_name = "in_array"

    def as_postgresql(self, compiler, connection):
        direct = self.rhs_is_direct_value() and not isinstance(self.lhs, ColPairs)
        if not direct or any(hasattr(value, "resolve_expression") for value in self.rhs):
            return self.as_sql(compiler, connection)
        field = self.lhs.output_field
        values = [
            field.get_db_prep_value(value, connection, prepared=True)
            for value in self.rhs
            if value is not None
        ]
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s::{field.cast_db_type(connection)}[])", (*lhs_params, values)


@Field.register_lookup
class InArray(ArrayParameterMixin, In):
    pass


@ForeignObject.register_lookup
class RelatedInArray(ArrayParameterMixin, RelatedIn):
    pass
