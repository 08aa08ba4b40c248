#!/usr/bin/env python3
"""Narrows `pub` items of the library to `pub(crate)` wherever nothing
outside it (the binaries, the integration tests, the fuzz crate) needs
them: narrows every item, then widens back each one the compiler names as
private (or as re-exported beyond its reach), until everything builds.
Dead code the narrowing reveals is left to clippy to name.

    python3 scripts/narrow-pub.py .            narrow, then widen
    python3 scripts/narrow-pub.py . --resume   only widen (after an edit)

Items default to `pub(crate)` (docs/ARCHITECTURE.md); run this after a
change that made items `pub` without need, then `cargo clippy`.
"""
import json, os, re, subprocess, sys
from pathlib import Path

ROOT = Path([a for a in sys.argv[1:] if not a.startswith("--")][0]).resolve()
os.chdir(ROOT)
ITEM = re.compile(r'^(\s*)pub (?=(?:async |unsafe |const )*(?:fn|struct|enum|const|static|type|trait|use|union)\b)')

def lib_files():
    for p in sorted(Path("src").rglob("*.rs")):
        if p.parts[1] == "bin" or p.name == "main.rs":
            continue
        yield p

def narrow():
    n = 0
    for p in lib_files():
        lines = p.read_text().split("\n")
        out = []
        for line in lines:
            new = ITEM.sub(r"\1pub(crate) ", line)
            n += new != line
            out.append(new)
        p.write_text("\n".join(out))
    return n

def widen(path, line_no):
    p = Path(path)
    lines = p.read_text().split("\n")
    i = line_no - 1
    # A name inside a multi-line `use` list: its statement starts above.
    for j in range(i, max(i - 30, -1), -1):
        if j < i and lines[j].rstrip().endswith(";"):
            return False
        if "pub(crate) " in lines[j]:
            if j < i and "pub(crate) use" not in lines[j]:
                return False
            lines[j] = lines[j].replace("pub(crate) ", "pub ", 1)
            p.write_text("\n".join(lines))
            return True
    return False

def widen_by_name(name):
    pat = re.compile(r'^(\s*)pub\(crate\) ((?:async |unsafe |const )*(?:fn|struct|enum|const|static|type|trait|union) ' + re.escape(name) + r'\b)')
    n = 0
    for p in lib_files():
        lines = p.read_text().split("\n")
        changed = False
        for i, line in enumerate(lines):
            new = pat.sub(r"\1pub \2", line)
            if new != line:
                lines[i] = new
                changed = True
                n += 1
        if changed:
            p.write_text("\n".join(lines))
    return n

def spans_of(msg):
    out = []
    def walk(m):
        for s in m.get("spans", []):
            out.append((s["file_name"], s["line_start"], m.get("message", ""), s.get("label") or ""))
        for c in m.get("children", []):
            walk(c)
    walk(msg)
    return out

def check(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    msgs = []
    for line in r.stdout.splitlines():
        try:
            j = json.loads(line)
        except ValueError:
            continue
        if j.get("reason") == "compiler-message":
            msgs.append(j["message"])
    return r.returncode, msgs

CMDS = [
    ["nice", "cargo", "check", "--keep-going", "--all-targets", "--message-format=json"],
    ["nice", "cargo", "check", "--keep-going", "--manifest-path", "fuzz/Cargo.toml", "--bins", "--message-format=json"],
]

def main():
    if "--resume" not in sys.argv:
        print("narrowed", narrow(), "items", flush=True)
    for rnd in range(40):
        widened = 0
        failed = False
        for cmd in CMDS:
            rc, msgs = check(cmd)
            for m in msgs:
                code = (m.get("code") or {}).get("code")
                text = m.get("message", "")
                if code in ("E0364", "E0365", "E0603"):
                    m2 = re.search(r"`([A-Za-z_0-9]+)` is (?:only public within the crate|private)", text)
                    if m2:
                        widened += widen_by_name(m2.group(1))
                        if code != "E0603":
                            continue
                interesting = code in ("E0603", "E0624", "E0616", "E0446") or "private" in text and m["level"] in ("error", "warning")
                if not interesting:
                    if m["level"] == "error":
                        failed = True
                        print("OTHER ERROR:", m.get("rendered", text)[:600], flush=True)
                    continue
                for f, ln, _, _ in spans_of(m):
                    fp = Path(f)
                    if not fp.is_absolute():
                        fp = (ROOT / ("fuzz" if "fuzz" in cmd[-3] else ".") / f).resolve() if False else (ROOT / f)
                    if fp.exists() and str(fp.resolve()).startswith(str((ROOT / "src").resolve())):
                        if widen(fp, ln):
                            widened += 1
            if widened:
                break
        print(f"round {rnd}: widened {widened}", flush=True)
        if widened == 0:
            return 1 if failed else 0
    return 1

sys.exit(main())
