"""PubSub commands."""

from ..util import _NOTSET  # noqa: F401
from ._convert import ok  # noqa: F401

__all__ = ["PubSubCommandsMixin"]


class PubSubCommandsMixin:
    """PubSub commands; every method sends through ``self._execute``."""

    __slots__ = ()
