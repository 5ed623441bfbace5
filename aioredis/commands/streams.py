"""Streams commands."""

from ..util import _NOTSET  # noqa: F401
from ._convert import ok  # noqa: F401

__all__ = ["StreamsCommandsMixin"]


class StreamsCommandsMixin:
    """Streams commands; every method sends through ``self._execute``."""

    __slots__ = ()
