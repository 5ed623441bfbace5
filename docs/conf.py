"""Sphinx configuration for aioredis.

Build (from the repository root, with the extension built in place so that
autodoc can import it):

    python setup.py build_ext --inplace
    python -m pip install sphinx
    python -m sphinx -W -b html docs docs/_build/html
"""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)  # document the checkout, not an installed copy


def _version():
    try:
        import tomllib

        with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
            return tomllib.load(f)["project"]["version"]
    except Exception:  # pragma: no cover - metadata is optional for the docs
        return "unknown"


project = "aioredis"
author = "aioredis contributors"
copyright = "aioredis contributors"
release = _version()
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
]

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autoclass_content = "both"

master_doc = "index"
exclude_patterns = ["_build"]
nitpicky = False
html_theme = "alabaster"
html_static_path = []
html_title = f"aioredis {release}"
