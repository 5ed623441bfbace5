"""Builds the C extension aioredis._core; metadata lives in pyproject.toml.

Environment switches:
  AIOREDIS_DEBUG=1     -O0 -g, assertions on
  AIOREDIS_SANITIZE=1  AddressSanitizer + UndefinedBehaviorSanitizer
"""

import os
import sys
from glob import glob

from setuptools import Extension, setup

extra_compile_args = [
    "-std=c11",
    "-Wall",
    "-Wextra",
    "-Wno-unused-parameter",
    "-Wno-missing-field-initializers",
    "-fvisibility=hidden",
]
extra_link_args = []
undef_macros = []

if os.environ.get("AIOREDIS_DEBUG") == "1":
    extra_compile_args += ["-O0", "-g3"]
    undef_macros.append("NDEBUG")
else:
    extra_compile_args.append("-O2")

if os.environ.get("AIOREDIS_SANITIZE") == "1":
    flags = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-fno-sanitize-recover=undefined"]
    extra_compile_args += flags + ["-O1", "-g"]
    extra_link_args += flags
    undef_macros.append("NDEBUG")

if sys.platform == "win32":  # pragma: no cover - MSVC takes other flags
    extra_compile_args, extra_link_args = [], []

setup(
    ext_modules=[
        Extension(
            "aioredis._core",
            sources=sorted(glob("src/*.c")),
            depends=sorted(glob("src/*.h")),
            extra_compile_args=extra_compile_args,
            extra_link_args=extra_link_args,
            undef_macros=undef_macros,
        )
    ],
)
