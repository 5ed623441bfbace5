"""RESP readers with the interface of ``hiredis.Reader``.

``Reader`` is the C implementation used by connections; ``PyReader`` is a
pure-Python reference with the same behaviour, used for differential tests.
"""

from ._core import Reader
from ._pyreader import PyReader

__all__ = ["Reader", "PyReader"]
