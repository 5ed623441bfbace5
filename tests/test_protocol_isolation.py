"""The extension module is isolated (PEP 630) and says so: its slots declare
per-interpreter-GIL support (3.12+) and GIL use (3.13+), and it imports and
works in a subinterpreter with its own GIL."""

import ctypes
import os
import subprocess
import sys
import sysconfig
import textwrap

import pytest

import aioredis._core

# Slot ids and values from CPython's moduleobject.h (stable since 3.12/3.13).
PY_MOD_EXEC = 2
PY_MOD_MULTIPLE_INTERPRETERS = 3
PY_MOD_GIL = 4
PY_MOD_PER_INTERPRETER_GIL_SUPPORTED = 2
PY_MOD_GIL_USED = 0


class _Slot(ctypes.Structure):
    _fields_ = [("slot", ctypes.c_int), ("value", ctypes.c_void_p)]


class _ModuleDef(ctypes.Structure):
    # PyModuleDef_Base (PyObject_HEAD, m_init, m_index, m_copy), then the def
    _fields_ = [
        ("ob_refcnt", ctypes.c_ssize_t),
        ("ob_type", ctypes.c_void_p),
        ("m_init", ctypes.c_void_p),
        ("m_index", ctypes.c_ssize_t),
        ("m_copy", ctypes.c_void_p),
        ("m_name", ctypes.c_char_p),
        ("m_doc", ctypes.c_char_p),
        ("m_size", ctypes.c_ssize_t),
        ("m_methods", ctypes.c_void_p),
        ("m_slots", ctypes.POINTER(_Slot)),
    ]


def module_slots():
    """{slot id: value} of aioredis._core's PyModuleDef, read through the
    definition its PyInit__core returns (multi-phase init)."""
    lib = ctypes.PyDLL(aioredis._core.__file__)
    lib.PyInit__core.restype = ctypes.POINTER(_ModuleDef)
    moddef = lib.PyInit__core().contents
    assert moddef.m_name == b"aioredis._core"
    slots, i = {}, 0
    while moddef.m_slots[i].slot != 0:
        slots[moddef.m_slots[i].slot] = moddef.m_slots[i].value or 0
        i += 1
    return slots


@pytest.mark.skipif(bool(sysconfig.get_config_var("Py_GIL_DISABLED")), reason="another object header layout")
def test_module_slots_declare_isolation_and_gil():
    slots = module_slots()
    assert PY_MOD_EXEC in slots
    if sys.version_info >= (3, 12):
        assert slots.get(PY_MOD_MULTIPLE_INTERPRETERS) == PY_MOD_PER_INTERPRETER_GIL_SUPPORTED
    if sys.version_info >= (3, 13):
        assert slots.get(PY_MOD_GIL) == PY_MOD_GIL_USED


# Run in a child: an isolated interpreter is the point, and 3.12.1's own
# _asyncio crashes while such an interpreter is finalized (as `import
# asyncio` alone does), so the child leaves with os._exit once it reported.
_CHILD = r"""
import os, sys
try:
    import _interpreters as interp  # 3.13
    iid = interp.create("isolated")  # its own GIL, strict extension checks
    run = lambda code: interp.exec(iid, code)
except ImportError:
    import _xxsubinterpreters as interp  # 3.12
    iid = interp.create(isolated=True)
    run = lambda code: interp.run_string(iid, code)
try:
    failure = run(CODE)  # 3.13 returns what was raised, 3.12 raises it
except Exception as exc:
    failure = exc
print("OK" if failure is None else "FAILED: %r" % (failure,), flush=True)
os._exit(0)
"""

_IN_SUBINTERPRETER = textwrap.dedent(
    """
    import sys
    sys.path[:0] = PATH
    import aioredis._core as core
    reader = core.Reader()
    reader.feed(b"*2\\r\\n$1\\r\\na\\r\\n:5\\r\\n")
    assert reader.gets() == [b"a", 5]
    assert core.pack_command("SET", "k", 1) == b"*3\\r\\n$3\\r\\nSET\\r\\n$1\\r\\nk\\r\\n$1\\r\\n1\\r\\n"
    """
)


@pytest.mark.skipif(sys.version_info < (3, 12), reason="interpreters with their own GIL are 3.12+")
def test_imports_in_an_interpreter_with_its_own_gil():
    root = os.path.dirname(os.path.dirname(os.path.abspath(aioredis._core.__file__)))
    code = _IN_SUBINTERPRETER.replace("PATH", repr([root]))
    child = _CHILD.replace("CODE", repr(code))
    proc = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip() == "OK", proc.stdout + proc.stderr
