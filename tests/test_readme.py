"""The README's Python examples run as written (against the test server)."""

import asyncio
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.rst"


def python_blocks():
    text = README.read_text()
    blocks = re.findall(r"\.\. code-block:: python\n\n((?:    .*\n|\n)+)", text)
    return [re.sub(r"^    ", "", b, flags=re.M) for b in blocks]


def test_readme_has_the_examples():
    sources = python_blocks()
    assert len(sources) >= 3
    joined = "\n".join(sources)
    for name in ("create_connection", "create_redis", "create_pool"):
        assert f"aioredis.{name}(" in joined


@pytest.mark.parametrize("index", range(3))
def test_readme_example_runs(index, redis_server, capsys):
    source = python_blocks()[index]
    host, port = redis_server.tcp_address
    source = source.replace('("localhost", 6379)', f"({host!r}, {port})")
    if redis_server.password:
        pytest.skip("the README examples connect without a password")
    assert "asyncio.run(main())" in source
    # run main() ourselves: the test runner owns the event loop
    namespace = {}
    exec(compile(source.replace("asyncio.run(main())", ""), "README.rst", "exec"), namespace)
    asyncio.run(namespace["main"]())
    out = capsys.readouterr().out
    expected = re.findall(r"print\(.*\)  # (.*)", source)
    assert out.split("\n")[: len(expected)] == expected


def sh_blocks():
    text = README.read_text()
    blocks = re.findall(r"\.\. code-block:: sh\n\n((?:    .*\n|\n)+)", text)
    return [re.sub(r"^    ", "", b, flags=re.M).strip() for b in blocks]


def ci_stages():
    script = (README.parent / ".ci" / "run").read_text()
    return re.search(r"^ALL=\((.*)\)$", script, re.M).group(1).split()


def test_readme_commands_fit_a_stock_debian():
    """The two commands of "Try it on a fresh machine" name real .ci/run stages
    and assume no ``python`` command and no pip outside a virtualenv (Debian's
    python3 is externally managed)."""
    blocks = sh_blocks()
    assert len(blocks) == 2, blocks
    stages = ci_stages()
    for block in blocks:
        for command in re.split(r"\s*(?:&&|\|\||;)\s*", block):
            words = command.split()
            if words[:2] == ["bash", ".ci/run"]:
                assert set(words[2:]) <= set(stages), (command, stages)
            elif words:
                assert words[0] in ("python3", ".venv/bin/python"), command
    demo = blocks[0]
    assert demo.startswith("bash .ci/run system") and demo.endswith("examples/demo.py")
    assert blocks[1] == "bash .ci/run"
