#!/usr/bin/env python3
"""A release archive whose bytes depend on its files' contents alone.

    archive.py OUT.tar.gz|OUT.zip DIR

packs DIR (its name the archive's one top directory): entries sorted by name, every
mtime SOURCE_DATE_EPOCH, owner root (0/0, no names), modes 0755 for executables and
directories and 0644 otherwise; gzip without a name or time (as `gzip -n`). Python, not
GNU tar and Info-ZIP, so a Mac (bsdtar) makes the same bytes for the same files.
"""
import gzip
import io
import os
import sys
import tarfile
import time
import zipfile

out, top = sys.argv[1], os.path.normpath(sys.argv[2])
epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "0"))
base = os.path.dirname(top)

entries = []
for root, dirs, files in os.walk(top):
    dirs.sort()
    entries.append(root)
    entries.extend(os.path.join(root, name) for name in sorted(files))
entries.sort(key=lambda p: os.path.relpath(p, base))


def mode(path):
    return 0o755 if os.path.isdir(path) or os.access(path, os.X_OK) else 0o644


if out.endswith(".tar.gz"):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for path in entries:
            info = tar.gettarinfo(path, arcname=os.path.relpath(path, base))
            info.mtime, info.mode = epoch, mode(path)
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if info.isfile():
                with open(path, "rb") as f:
                    tar.addfile(info, f)
            else:
                tar.addfile(info)
    with open(out, "wb") as f, gzip.GzipFile(filename="", mode="wb", fileobj=f, mtime=0, compresslevel=9) as gz:
        gz.write(raw.getvalue())
elif out.endswith(".zip"):
    # ZIP keeps local time with two-second steps and nothing before 1980.
    stamp = time.gmtime(max(epoch, 315532800))[:6]
    with zipfile.ZipFile(out, "w") as archive:
        for path in entries:
            name = os.path.relpath(path, base).replace(os.sep, "/")
            if os.path.isdir(path):
                name += "/"
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.create_system = 3  # Unix, so the modes below are read
            info.external_attr = ((0o40000 if os.path.isdir(path) else 0o100000) | mode(path)) << 16
            if os.path.isdir(path):
                info.external_attr |= 0x10
                archive.writestr(info, b"")
            else:
                info.compress_type = zipfile.ZIP_DEFLATED
                with open(path, "rb") as f:
                    archive.writestr(info, f.read(), compresslevel=9)
else:
    sys.exit(f"archive.py: {out}: the name must end in .tar.gz or .zip")
