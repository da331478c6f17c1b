"""Fetch the CommonMark 0.31.2 spec examples for tests/test_commonmark_spec.py (make install-test).

No wheel on PyPI ships the spec; the source archive of markdown-it-py 4.3.0 does, as
``tests/test_cmark_spec/commonmark.json`` (identical to the spec's own ``spec.txt``). This
downloads that archive with pip (the registry the project installs from anyway), checks the
version and the example count and writes the JSON to the path given. The tests read the file
from disk and never touch the network.

Usage::

    .venv/bin/python tools/commonmark_spec.py .venv/share/commonmark-0.31.2.json
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "markdown-it-py==4.3.0"
MEMBER_SUFFIX = "tests/test_cmark_spec/commonmark.json"
SPEC_SUFFIX = "tests/test_cmark_spec/spec.md"
EXAMPLES = 652


def fetch(target: Path) -> None:
    """Download the sdist, extract the spec JSON, check it and write it to ``target``."""
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"]
            + ["--no-binary", ":all:", "--dest", tmp, PACKAGE],
            check=True,
        )
        archive = next(Path(tmp).glob("*.tar.gz"))
        with tarfile.open(archive) as tar:
            names = tar.getnames()
            spec = tar.extractfile(next(n for n in names if n.endswith(SPEC_SUFFIX))).read()
            data = tar.extractfile(next(n for n in names if n.endswith(MEMBER_SUFFIX))).read()
    if b"version: '0.31.2'" not in spec[:200]:
        raise SystemExit(f"{PACKAGE} does not ship CommonMark 0.31.2")
    examples = json.loads(data)
    if len(examples) != EXAMPLES:
        raise SystemExit(f"expected {EXAMPLES} examples, found {len(examples)}")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    partial.write_bytes(data)
    partial.replace(target)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    fetch(Path(sys.argv[1]))
