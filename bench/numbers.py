"""How every figure is written as text: one place, so no figure prints as ``-0.00``.

A fitted slope of a constant, a difference of two equal medians or a change of
zero percent comes out of numpy as ``-1e-17`` on one machine and ``+1e-17`` on
another (BLAS kernels differ). Formatted, the first reads ``-0.00``: a sign the
data does not have, and a report whose text depends on the machine. Every
figure that is fitted, differenced or a change goes through :func:`fmt`.
"""

NONE = "-"


def fmt(value: float | int | None, spec: str = "{:,.1f}", none: str = NONE) -> str:
    """``spec.format(value)``, without the minus sign of a value that rounds to zero.

    ``fmt(-1e-17, "{:.2f}") == "0.00"``, ``fmt(-0.004, "{:+.1f}%") == "+0.0%"``,
    ``fmt(-0.06, "{:.1f}") == "-0.1"``; None prints as ``none``.
    """
    if value is None:
        return none
    text = spec.format(value)
    digits = _digits(text)
    if "-" in text and digits and not any(ch in "123456789" for ch in digits):
        # The value rounds to zero at this precision: the sign is noise.
        positive = spec.format(abs(value))
        return positive
    return text


def _digits(text: str) -> str:
    """The digits of a formatted number, without an exponent's (``1e-05`` is not zero)."""
    mantissa = text.lower().split("e")[0]
    return "".join(ch for ch in mantissa if ch.isdigit())
