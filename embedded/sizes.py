#!/usr/bin/env python3
"""The size table of the firmware builds: flash (`text`) and static RAM (`data + bss`).

Usage: python3 sizes.py [TARGET_DIR]   (default: target/thumbv7m-none-eabi)

Reads the section headers of each ELF the way binutils' `size` does in its default (Berkeley)
format: `text` is every allocated read-only section (vector table, code, read-only data),
`data` every allocated writable section with contents, `bss` every allocated section without.
For each profile, prints `firmware`, `device`, `minimal`, `broker` and `baseline`, and what
the others add to the baseline. Needs only Python 3.
"""

import struct
import sys
from pathlib import Path

SHF_WRITE = 0x1
SHF_ALLOC = 0x2
SHT_NOBITS = 8
PROFILES = [("release", '"z"'), ("release-s", '"s"')]
BINARIES = ["firmware", "device", "minimal", "broker", "baseline"]


def berkeley(path):
    """(text, data, bss) of a 32-bit little-endian ELF file."""
    blob = Path(path).read_bytes()
    if blob[:4] != b"\x7fELF" or blob[4] != 1 or blob[5] != 1:
        sys.exit(f"{path}: not a 32-bit little-endian ELF file")
    shoff, = struct.unpack_from("<I", blob, 0x20)
    shentsize, shnum = struct.unpack_from("<HH", blob, 0x2E)
    text = data = bss = 0
    for index in range(shnum):
        _, kind, flags, _, _, size = struct.unpack_from("<IIIIII", blob, shoff + index * shentsize)
        if not flags & SHF_ALLOC:
            continue
        if kind == SHT_NOBITS:
            bss += size
        elif flags & SHF_WRITE:
            data += size
        else:
            text += size
    return text, data, bss


def main():
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "target/thumbv7m-none-eabi")
    print(f"{'build':<30} {'text':>7} {'data+bss':>9}   {'text added':>10} {'data+bss added':>15}")
    for profile, level in PROFILES:
        sizes = {name: berkeley(root / profile / name) for name in BINARIES}
        base_text, base_data, base_bss = sizes["baseline"]
        for name in BINARIES:
            text, data, bss = sizes[name]
            label = f"{name} (opt-level {level})"
            added = ""
            if name != "baseline":
                added = f"   {text - base_text:>10} {data + bss - base_data - base_bss:>15}"
            print(f"{label:<30} {text:>7} {data + bss:>9}{added}")


if __name__ == "__main__":
    main()
