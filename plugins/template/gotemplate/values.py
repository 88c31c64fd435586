"""Go values as the template interpreter sees them, and their Go types.

Python values stand for Go ones: ``str`` is a string, ``bool`` a bool, ``int`` an int,
:class:`Uint` (one subclass per width) an unsigned integer, ``float`` a float64, ``list`` a
slice, ``dict`` a map with string keys, ``None`` an untyped nil and :data:`MISSING` what Go
calls an invalid value (a map key that is not there: it prints ``<no value>``). A Go struct
(the data a template renders) is a :class:`Struct` subclass that names its fields and methods
with their static :class:`GoType`, so a template's field chains can be checked when it is
compiled instead of failing on a query.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar


class _Missing:
    """Go's invalid ``reflect.Value``: what a missing map key evaluates to."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<no value>"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()


class Uint(int):
    """A Go unsigned integer (``parseInt``'s uint64, a question's uint16 type...)."""

    go_type: ClassVar[str] = "uint"


class Uint8(Uint):
    go_type = "uint8"


class Uint16(Uint):
    go_type = "uint16"


class Uint64(Uint):
    go_type = "uint64"


@dataclass(frozen=True)
class GoType:
    """A static Go type: ``kind`` is ``basic``, ``slice``, ``map``, ``struct`` or ``any``."""

    name: str
    kind: str = "basic"
    elem: GoType | None = None
    struct: type[Struct] | None = None

    def __str__(self) -> str:
        return self.name


ANY = GoType("interface {}", "any")
STRING = GoType("string")
INT = GoType("int")
BOOL = GoType("bool")
UINT16 = GoType("uint16")


def slice_of(elem: GoType) -> GoType:
    return GoType(f"[]{elem}", "slice", elem)


def map_of(elem: GoType) -> GoType:
    return GoType(f"map[string]{elem}", "map", elem)


def struct_type(cls: type[Struct]) -> GoType:
    return GoType(cls.go_type, "struct", None, cls)


@dataclass(frozen=True)
class Method:
    """A method templates may call: its parameter types and result type."""

    params: tuple[GoType, ...]
    result: GoType


class Struct:
    """A Go struct pointer. Subclasses list their exported fields and methods.

    Fields are read with ``getattr(self, name)``; method ``M`` is ``self.M(*args)``.
    A subclass whose Go type has a ``String()`` method overrides :meth:`go_string`.
    """

    go_type: ClassVar[str] = "*struct"
    go_fields: ClassVar[Mapping[str, GoType]] = {}
    go_methods: ClassVar[Mapping[str, Method]] = {}

    def go_field(self, name: str) -> Any:
        return getattr(self, name)

    def go_call(self, name: str, args: list[Any]) -> Any:
        method: Callable[..., Any] = getattr(self, name)
        return method(*args)

    def go_string(self) -> str | None:
        """The Go ``String()`` result, or None when the type has no such method."""
        return None


def type_name(value: Any) -> str:
    """The Go type of ``value`` as ``%T`` prints it."""
    if value is None or value is MISSING:
        return "<nil>"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, Uint):
        return value.go_type
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "[]" + (type_name(value[0]) if value else "string")
    if isinstance(value, dict):
        first = next(iter(value.values()), "")
        return f"map[string]{type_name(first)}"
    if isinstance(value, Struct):
        return value.go_type
    return type(value).__name__


def is_true(value: Any) -> bool:
    """Go's template truth: false, 0, nil, an empty string, slice or map are false."""
    if value is None or value is MISSING:
        return False
    if isinstance(value, (bool, int, float, str, list, dict)):
        return bool(value)
    return True  # structs and pointers to them


def go_float(f: float) -> str:
    """A float64 as Go's ``%v`` prints it: the shortest digits, in ``e`` form when the
    exponent is below -4 or at least 6 (``1e+06``, ``123456``, ``1.5e-05``)."""
    if f != f:
        return "NaN"
    if f in (float("inf"), float("-inf")):
        return "+Inf" if f > 0 else "-Inf"
    sign = "-" if str(f).startswith("-") else ""
    if f == 0:
        return sign + "0"
    digits, exp = shortest_digits(abs(f))
    if exp < -4 or exp >= 6:
        return sign + exp_form(digits, exp)
    return sign + fixed_form(digits, exp)


def shortest_digits(f: float) -> tuple[str, int]:
    """The shortest decimal digits that read back as ``f`` > 0, and the power of ten of the
    first digit: ``1234.5`` is ``("12345", 3)``."""
    _, digit_tuple, exponent = Decimal(repr(f)).as_tuple()
    digits = "".join(map(str, digit_tuple)).lstrip("0")
    assert isinstance(exponent, int)  # finite
    return digits.rstrip("0") or "0", exponent + len(digits) - 1


def exp_form(digits: str, exp: int) -> str:
    """``d.ddde+XX`` with at least two exponent digits, as Go writes it."""
    mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{mant}e{'-' if exp < 0 else '+'}{abs(exp):02d}"


def fixed_form(digits: str, exp: int) -> str:
    """The digits with the decimal point where ``exp`` puts it."""
    if exp < 0:
        return "0." + "0" * (-exp - 1) + digits
    if exp + 1 >= len(digits):
        return digits + "0" * (exp + 1 - len(digits))
    return digits[: exp + 1] + "." + digits[exp + 1 :]
