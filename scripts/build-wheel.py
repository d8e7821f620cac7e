#!/usr/bin/env python3
"""Writes the ember-tools platform wheel: the three static binaries under
ember_tools-VERSION.data/scripts/ (pip puts them on PATH), a small `ember_tools` package
(its version and where the binaries were installed), METADATA, WHEEL and RECORD with sha256
hashes. Standard library only (zipfile), following the binary distribution format spec.

    scripts/build-wheel.py --version 0.2.0 --bin-dir DIR --out DIR [--readme README.md] [--license LICENSE]

The wheel is tagged py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.musllinux_1_1_x86_64:
the binaries are fully static (no ELF interpreter, no shared library, no libc of the host's
used), built for baseline x86-64 and marked for Linux kernels >= 3.2; every platform those
tags name meets that (manylinux2014's reference system, CentOS 7, runs kernel 3.10;
manylinux1 and manylinux2010, kernels 2.6.x, would not, so the tag starts at 2_17).
"""
import argparse
import base64
import hashlib
import io
import os
import re
import stat
import subprocess
import sys
import time
import zipfile

TOOLS = ("ember-lint", "ember-migrate", "ember-bench", "ember-bench-spawn")
NAME = "ember-tools"
DIST = "ember_tools"
PLATFORMS = ("manylinux_2_17_x86_64", "manylinux2014_x86_64", "musllinux_1_1_x86_64")
PYTHON_TAG, ABI_TAG = "py3", "none"

PACKAGE_INIT = '''"""Ember for Swift's command-line tools (ember-lint, ember-migrate, ember-bench) as
static binaries. pip installs them on PATH; `find_tool` says where they are."""
import os
import sys
import sysconfig

__version__ = "{version}"
TOOLS = {tools!r}


def find_tool(name: str) -> str:
    """The path of an installed tool binary (name: one of TOOLS)."""
    if name not in TOOLS:
        raise ValueError(f"unknown tool {{name!r}}; the tools are {{', '.join(TOOLS)}}")
    exe = name + (".exe" if sys.platform == "win32" else "")
    schemes = [sysconfig.get_default_scheme()] if hasattr(sysconfig, "get_default_scheme") else []
    schemes += [s for s in ("posix_user", "posix_prefix") if s not in schemes]
    for scheme in schemes:
        try:
            folder = sysconfig.get_path("scripts", scheme=scheme)
        except KeyError:
            continue
        path = os.path.join(folder, exe)
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(f"{{name}} is not installed next to this Python package")
'''

PACKAGE_MAIN = '''"""python -m ember_tools TOOL [ARGS...]: runs one of the tools."""
import os
import sys

from ember_tools import TOOLS, find_tool


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TOOLS:
        sys.stderr.write(f"usage: python -m ember_tools {{{'|'.join(TOOLS)}}} [ARGS...]\\n")
        sys.exit(2)
    tool = find_tool(sys.argv[1])
    os.execv(tool, [tool, *sys.argv[2:]])


if __name__ == "__main__":
    main()
'''


def record_hash(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def is_static_elf(path: str) -> bool:
    """True for an ELF executable with no program interpreter (nothing loaded at start)."""
    with open(path, "rb") as f:
        head = f.read(64)
        if head[:4] != b"\x7fELF" or head[4] != 2 or head[5] != 1:
            return False
        phoff = int.from_bytes(head[32:40], "little")
        phentsize = int.from_bytes(head[54:56], "little")
        phnum = int.from_bytes(head[56:58], "little")
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    for i in range(phnum):
        p_type = int.from_bytes(table[i * phentsize:i * phentsize + 4], "little")
        if p_type in (2, 3):  # PT_DYNAMIC, PT_INTERP
            return False
    return True


def zip_time() -> tuple:
    """Reproducible entry times: SOURCE_DATE_EPOCH, else the commit's time, else 1980."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is None:
        try:
            epoch = subprocess.run(["git", "log", "-1", "--format=%ct"], capture_output=True, text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            epoch = None
    seconds = max(int(epoch), 315532800) if epoch else 315532800
    return time.gmtime(seconds)[:6]


def metadata(version: str, readme: str) -> str:
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {NAME}",
        f"Version: {version}",
        "Summary: ember-lint, ember-migrate and ember-bench (Ember for Swift) as static binaries for Linux x86-64",
        "License: MIT",
        "Keywords: lint,import-layers,codemod,benchmark,ember",
        "Classifier: License :: OSI Approved :: MIT License",
        "Classifier: Operating System :: POSIX :: Linux",
        "Classifier: Programming Language :: Swift",
        "Classifier: Environment :: Console",
        "Classifier: Topic :: Software Development :: Quality Assurance",
        "Requires-Python: >=3.7",
        "Description-Content-Type: text/markdown",
    ]
    return "\n".join(lines) + "\n\n" + readme


def build(version: str, bin_dir: str, out_dir: str, readme_path: str, license_path: str) -> str:
    if not re.fullmatch(r"\d+\.\d+\.\d+", version):
        sys.exit(f"build-wheel: version {version!r} is not MAJOR.MINOR.PATCH")
    for tool in TOOLS:
        path = os.path.join(bin_dir, tool)
        if not os.path.isfile(path):
            sys.exit(f"build-wheel: {path} is missing")
        if not is_static_elf(path):
            sys.exit(f"build-wheel: {path} is not a static ELF executable (it has an interpreter or a dynamic section); the platform tags would be wrong")
    readme = open(readme_path, encoding="utf-8").read() if readme_path else ""
    data_scripts = f"{DIST}-{version}.data/scripts"
    dist_info = f"{DIST}-{version}.dist-info"
    tags = [f"{PYTHON_TAG}-{ABI_TAG}-{p}" for p in PLATFORMS]
    wheel_name = f"{DIST}-{version}-{PYTHON_TAG}-{ABI_TAG}-{'.'.join(PLATFORMS)}.whl"
    when = zip_time()

    entries = []  # (archive name, bytes, mode)
    entries.append((f"{DIST}/__init__.py", PACKAGE_INIT.format(version=version, tools=TOOLS).encode(), 0o644))
    entries.append((f"{DIST}/__main__.py", PACKAGE_MAIN.encode(), 0o644))
    for tool in TOOLS:
        with open(os.path.join(bin_dir, tool), "rb") as f:
            entries.append((f"{data_scripts}/{tool}", f.read(), 0o755))
    entries.append((f"{dist_info}/METADATA", metadata(version, readme).encode("utf-8"), 0o644))
    wheel_file = "Wheel-Version: 1.0\nGenerator: ember scripts/build-wheel.py\nRoot-Is-Purelib: false\n" + "".join(f"Tag: {t}\n" for t in tags)
    entries.append((f"{dist_info}/WHEEL", wheel_file.encode(), 0o644))
    if license_path:
        entries.append((f"{dist_info}/LICENSE", open(license_path, "rb").read(), 0o644))

    record = io.StringIO()
    for name, data, _ in entries:
        record.write(f"{name},{record_hash(data)},{len(data)}\n")
    record.write(f"{dist_info}/RECORD,,\n")
    entries.append((f"{dist_info}/RECORD", record.getvalue().encode(), 0o644))

    os.makedirs(out_dir, exist_ok=True)
    target = os.path.join(out_dir, wheel_name)
    temp = target + ".part"
    with zipfile.ZipFile(temp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as wheel:
        for name, data, mode in entries:
            info = zipfile.ZipInfo(name, date_time=when)
            info.external_attr = (stat.S_IFREG | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so that external_attr's mode is read as such
            wheel.writestr(info, data)
    os.replace(temp, target)
    return target


def verify(path: str) -> None:
    """Reads the written wheel back: every entry listed in RECORD once with the right hash
    and size, the binaries executable."""
    with zipfile.ZipFile(path) as wheel:
        names = [i.filename for i in wheel.infolist()]
        record_name = next(n for n in names if n.endswith(".dist-info/RECORD"))
        rows = [line.split(",") for line in wheel.read(record_name).decode().splitlines()]
        listed = {row[0]: row for row in rows}
        if len(listed) != len(rows) or set(listed) != set(names):
            sys.exit(f"build-wheel: RECORD and the archive disagree: {sorted(set(listed) ^ set(names))}")
        for name in names:
            if name == record_name:
                continue
            data = wheel.read(name)
            _, digest, size = listed[name]
            if digest != record_hash(data) or int(size) != len(data):
                sys.exit(f"build-wheel: {name}: RECORD says {digest} {size}, the archive holds {record_hash(data)} {len(data)}")
            mode = wheel.getinfo(name).external_attr >> 16
            if "/scripts/" in name and not mode & 0o111:
                sys.exit(f"build-wheel: {name} is not executable in the archive")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", required=True)
    parser.add_argument("--bin-dir", required=True, help="folder holding the three static binaries")
    parser.add_argument("--out", required=True, help="folder to write the wheel to")
    parser.add_argument("--readme", help="long description (Markdown)")
    parser.add_argument("--license", help="license file to ship in the .dist-info folder")
    args = parser.parse_args()
    path = build(args.version, args.bin_dir, args.out, args.readme, args.license)
    verify(path)
    print(path)


if __name__ == "__main__":
    main()
