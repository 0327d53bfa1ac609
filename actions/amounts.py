"""Amounts in euros as the French write them: "12 500 €", "1 234,50 €"."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

NBSP = "\u00a0"  # no-break space: the figure never breaks from its € sign nor inside itself


def euros(value) -> str:
    """ "12 500 €" (cents shown only when there are some: "12 500,50 €"); "—" for no amount."""
    if value is None or value == "":
        return "—"
    amount = Decimal(value).quantize(Decimal("0.01"))
    negative, amount = amount < 0, abs(amount)
    units, cents = divmod(int(amount * 100), 100)
    grouped = f"{units:,}".replace(",", NBSP)
    text = f"{grouped},{cents:02d}" if cents else grouped
    return f"{'-' if negative else ''}{text}{NBSP}€"


def parse_amount(text: str) -> Decimal | None:
    """ "12 500,50 €", "12500.5", "12 500" → Decimal; None when it is not an amount."""
    cleaned = "".join(ch for ch in str(text) if ch not in " \u00a0\u202f€").replace(",", ".")
    if not cleaned:
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def totals(lines) -> dict[str, Decimal | None]:
    """The planned, granted and spent amounts of financing lines added up; None for an amount
    no line gives (shown "—", not "0 €")."""
    sums: dict[str, Decimal | None] = {}
    for name in ("planned", "granted", "spent"):
        given = [getattr(line, name) for line in lines if getattr(line, name) is not None]
        sums[name] = sum(given, Decimal(0)) if given else None
    return sums
