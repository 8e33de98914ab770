"""Runtime and development requirements stay apart, and each has a hashed lock that matches it
(a package added to requirements*.txt without `make lock` is never installed: this test says so)."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==([^\s;\\]+)")
TEST_TOOLS = {"pytest", "hypothesis", "playwright", "pip-tools"}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirements(name: str) -> dict[str, str]:
    out = {}
    for line in (ROOT / name).read_text().splitlines():
        m = PIN.match(line.strip())
        if m:
            out[_norm(m.group(1))] = m.group(2)
    return out


def _lock(name: str) -> dict[str, tuple[str, int]]:
    """package → (version, number of hashes)."""
    out: dict[str, tuple[str, int]] = {}
    current = None
    for line in (ROOT / name).read_text().splitlines():
        m = PIN.match(line)
        if m:
            current = _norm(m.group(1))
            out[current] = (m.group(2), 0)
        elif current and line.strip().startswith("--hash=sha256:"):
            version, n = out[current]
            out[current] = (version, n + 1)
        elif not line.startswith(" "):
            current = None
    return out


def test_runtime_requirements_hold_no_test_tools_and_each_says_why():
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    pins = _requirements("requirements.txt")
    assert pins and not TEST_TOOLS & set(pins)
    for i, line in enumerate(lines):
        if PIN.match(line):
            assert i > 0 and (lines[i - 1].startswith("#") or PIN.match(lines[i - 1])), f"no comment above {line}"
    assert TEST_TOOLS <= set(_requirements("requirements-dev.txt"))


def test_each_lock_pins_what_its_requirements_ask_with_hashes():
    runtime, dev = _lock("requirements.lock"), _lock("requirements-dev.lock")
    stale = []
    for req, lock in (("requirements.txt", runtime), ("requirements.txt", dev), ("requirements-dev.txt", dev)):
        for pkg, version in _requirements(req).items():
            if lock.get(pkg, ("", 0))[0] != version:
                stale.append(f"{pkg}=={version} ({req})")
    assert not stale, f"locks out of date, run `make lock`: {stale}"
    assert not TEST_TOOLS & set(runtime)
    assert all(n > 0 for _, n in runtime.values()) and all(n > 0 for _, n in dev.values())
    # The test environment runs exactly the versions production runs.
    assert {p: dev.get(p, ("", 0))[0] for p in runtime} == {p: v for p, (v, _) in runtime.items()}


def test_make_installs_from_the_locks_with_hashes():
    makefile = (ROOT / "Makefile").read_text()
    assert "--require-hashes" in makefile
    assert "$(VENV)/.installed: $(LOCK)" in makefile and "-r requirements.txt\n" not in makefile.split("lock:")[0]
