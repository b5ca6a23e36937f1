"""Dependencies: the web server that faces the internet has no version with known advisories, and constraints.txt
pins every package the project installs (tested together), which the README's and CI's install commands use."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
AIOHTTP_FIXED = Version("3.12.14")  # the first aiohttp without the request-smuggling and other advisories before it


def requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    return [Requirement(r) for r in project["dependencies"] + [r for group in extras.values() for r in group]]


def pins() -> dict[str, Version]:
    out = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, sep, version = line.partition("==")
            assert sep, f"constraints.txt: {line!r} is not pinned with =="
            out[canonical(name)] = Version(version)
    return out


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_aiohttp_is_held_above_its_advisories():
    [aiohttp] = [r for r in requirements() if canonical(r.name) == "aiohttp"]
    assert not aiohttp.marker
    lowest = min(Version(s.version) for s in aiohttp.specifier if s.operator in (">=", ">", "=="))
    assert lowest >= AIOHTTP_FIXED
    assert SpecifierSet(f">={AIOHTTP_FIXED}").contains(pins()["aiohttp"])
    assert Version(metadata.version("aiohttp")) >= AIOHTTP_FIXED


def test_constraints_pin_every_requirement_within_pyproject():
    pinned = pins()
    assert "station-bot" not in pinned  # the project itself is installed from the work tree
    wrong = [
        f"{r} (pinned {pinned.get(canonical(r.name))})"
        for r in requirements()
        if canonical(r.name) not in pinned or not r.specifier.contains(pinned[canonical(r.name)], prereleases=True)
    ]
    assert wrong == []


def test_install_commands_use_the_constraints():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "pip install -c constraints.txt -e . " in readme
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "pip install -q -c constraints.txt -e '.[test,dev]'" in ci
