"""Accent- and case-insensitive search across a plan, on SQLite and PostgreSQL alike.

Nothing new is stored: both sides of the comparison are folded the same way, the column in SQL
(`Folded`), the words typed in Python (`fold`). "mediatheque" finds "Médiathèque", "CRECHE"
finds "crèche", "l'enfance" finds "l’enfance".
"""

import unicodedata

from django.db.models import CharField, F, Func, Q, Value
from django.db.models.functions import Lower, Replace
from django.db.models.lookups import Contains

# Accented letters (upper and lower case) and their plain lower-case letter: what translate()
# applies on PostgreSQL before lower(), whatever the database's locale.
ACCENTED = "àâäáãåÀÂÄÁÃÅçÇéèêëÉÈÊËîïíìÎÏÍÌôöóòõÔÖÓÒÕùûüúÙÛÜÚÿýŸÝñÑ’‘"
LIGATURES = {"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae"}


def fold(text: str) -> str:
    """The words typed, as the column is folded: no accents, lower case, straight apostrophes."""
    for ligature, letters in LIGATURES.items():
        text = text.replace(ligature, letters)
    decomposed = unicodedata.normalize("NFKD", text.replace("’", "'").replace("‘", "'"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower().strip()


PLAIN = "".join(fold(c) for c in ACCENTED)
assert len(PLAIN) == len(ACCENTED)


def _fold_or_none(text):
    return None if text is None else fold(text)


class _Translate(Func):
    function = "TRANSLATE"
    output_field = CharField()


class Folded(Func):
    """A text column without accents, in lower case: translate() on PostgreSQL, a Python
    function registered on the connection on SQLite."""

    output_field = CharField()

    def _ligatures(self, expression):
        for ligature, letters in LIGATURES.items():
            expression = Replace(expression, Value(ligature), Value(letters))
        return expression

    def as_sqlite(self, compiler, connection, **extra_context):
        # SQLite has no translate() and overflows on 60 nested replace(): the same folding as
        # the words typed, in Python, registered on the connection (deterministic, so SQLite
        # may use it in indexes and constant-fold it).
        connection.ensure_connection()
        connection.connection.create_function("ctg_fold", 1, _fold_or_none, deterministic=True)
        sql, params = compiler.compile(self.source_expressions[0])
        return f"ctg_fold({sql})", params

    def as_postgresql(self, compiler, connection, **extra_context):
        expression = _Translate(self._ligatures(self.source_expressions[0]), Value(ACCENTED), Value(PLAIN))
        return compiler.compile(Lower(expression))


def contains(field: str, term: str) -> Contains:
    """The condition "`field` contains `term`, accents and case aside", for filter(). On
    PostgreSQL a trigram index on the folded column serves it (migration actions 0016)."""
    return Contains(Folded(F(field)), fold(term))


def matching(queryset, term: str, *fields: str):
    """Rows of `queryset` where one of `fields` contains `term`, accents and case aside."""
    condition = Q()
    for field in fields:
        condition |= Q(contains(field, term))
    return queryset.filter(condition)
