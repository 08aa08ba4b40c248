#!/usr/bin/env python3
"""Checks the dependency arrows between the crate's top-level modules (the
layers drawn in docs/ARCHITECTURE.md): a module may use only modules in
lower layers, `s3/` and the other layers above storage never name a
backend (`storage::cassandra`, `storage::embedded`) except `config`, which
names only the Cassandra backend's settings (`storage::cassandra::options`),
`s3/` uses only the data contract (`Storage`, not `Maintenance` or
`StatusStore`), and nothing below `server` reaches up. Reads
`crate::<module>` paths in src/ (comments and
`#[cfg(test)]` modules left out).

    python3 scripts/check-arrows.py

Known violations are listed in KNOWN with the issue that removes them; a
new violation fails, and so does a KNOWN entry that no longer occurs (so
the list only shrinks). Exit 0 when the arrows are as declared.
"""

import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "src")

# Lowest first. A module may use modules of lower layers only; modules in
# one layer do not use each other.
LAYERS = [
    ["types", "md5_lanes", "private_fs", "metric_names", "settings"],
    ["xml"],
    ["storage"],
    ["error"],
    ["http"],
    ["auth"],
    ["telemetry"],
    ["config"],
    ["access"],
    ["janitor", "state"],
    ["lifecycle"],
    ["dashboard", "admin_api"],
    ["s3"],
    ["server", "cli"],
]

# Modules above storage that must not name a backend, and what of a
# backend each may still name: `config` layers the Cassandra backend's
# settings as a section, but their parsing and checks live in the backend.
BACKEND_FREE = {
    "error", "http", "auth", "telemetry", "config", "access", "janitor", "state", "lifecycle",
    "dashboard",
    "admin_api", "s3",
}
BACKENDS = ("storage::cassandra", "storage::embedded")
BACKEND_ALLOWED = {"config": ("storage::cassandra::options",)}

# `s3/` uses only the data contract (`storage::Storage`), never the
# maintenance or status-document contracts, nor the `AppState` fields that
# hold them.
DATA_ONLY = {"s3"}
NOT_DATA = re.compile(r"\b(Maintenance|StatusStore|Stores)\b|\.(maintenance|statuses)\b")

# (from, to): why it is still there. Remove an entry when its arrow goes.
KNOWN = {
}

USE = re.compile(r"\bcrate::([a-z_0-9]+)((?:::[a-z_0-9]+)*)")


def layer_of(module):
    for i, layer in enumerate(LAYERS):
        if module in layer:
            return i
    return None


def code_of(text):
    """The text without comments and without `#[cfg(test)]` modules."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = "\n".join(line.split("//", 1)[0] for line in text.splitlines())
    while cut := re.search(r"#\[cfg\(test\)\]\s*(pub\s+)?mod\s+\w+\s*\{", text):
        depth, end = 0, len(text)
        for i in range(cut.end() - 1, len(text)):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            if depth == 0:
                end = i + 1
                break
        text = text[: cut.start()] + text[end:]
    return text


def arrows():
    """{(from, to): [file, ...]} for every top-level module used."""
    found = {}
    for dirpath, _, files in os.walk(SRC):
        for name in files:
            if not name.endswith(".rs"):
                continue
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, SRC)
            top = rel.split(os.sep)[0].removesuffix(".rs")
            if top in ("lib", "main", "bin"):
                continue
            with open(path, encoding="utf-8") as f:
                code = code_of(f.read())
            for m in USE.finditer(code):
                to = m.group(1)
                if to != top:
                    found.setdefault((top, to), set()).add(rel)
                path = to + m.group(2)
                allowed = BACKEND_ALLOWED.get(top, ())
                if (
                    top in BACKEND_FREE
                    and any(b in path for b in BACKENDS)
                    and not any(path == a or path.startswith(a + "::") for a in allowed)
                ):
                    found.setdefault((top, "storage backend"), set()).add(rel)
            if top in DATA_ONLY and NOT_DATA.search(code):
                found.setdefault((top, "storage beyond the data contract"), set()).add(rel)
    return found


def main():
    problems = []
    seen = set()
    for (frm, to), files in sorted(arrows().items()):
        lf, lt = layer_of(frm), layer_of(to)
        if lf is None:
            problems.append(f"{frm}: a module in no layer (add it to LAYERS)")
            continue
        wrong = to in ("storage backend", "storage beyond the data contract")
        wrong = wrong or lt is None or lt >= lf
        if not wrong:
            continue
        seen.add((frm, to))
        if (frm, to) in KNOWN:
            continue
        where = ", ".join(sorted(files))
        problems.append(f"{frm} -> {to}: not allowed ({where})")
    for arrow, why in KNOWN.items():
        if arrow not in seen:
            problems.append(f"{arrow[0]} -> {arrow[1]} is gone: remove it from KNOWN ({why})")
    for p in problems:
        print(f"check-arrows: {p}")
    if problems:
        return 1
    print(f"check-arrows: the arrows are as declared ({len(KNOWN)} known exceptions)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
