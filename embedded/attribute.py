#!/usr/bin/env python3
"""Where a firmware's `.text` comes from, by source file, inlined code included.

Usage: python3 attribute.py ELF [ELF_TO_SUBTRACT] [--top N]

`cargo bloat` and the symbol table charge inlined code to the function it was inlined into,
and with LTO at opt-level "z" most of the client ends up inside a few large functions. The
DWARF line table instead says, for every instruction, which source line it came from, inlined
or not. This script sums instruction bytes per source file and groups them by crate and by
module of mqtt-sansio. Generic code of `core` and `alloc` (a `VecDeque::push_back`
instantiated for the client, say) is charged to `core`/`alloc`, not to its caller.

With a second ELF (the baseline), prints the difference per group, which is what the first
adds. Needs a build with line tables (`debug` on in the profile; it does not change the code)
and pyelftools (`pip install pyelftools`).
"""

import collections
import re
import sys

from elftools.elf.elffile import ELFFile


def rows(path):
    """(address, size, file) for every line-table row inside `.text`."""
    with open(path, "rb") as stream:
        elf = ELFFile(stream)
        text = elf.get_section_by_name(".text")
        start, end = text["sh_addr"], text["sh_addr"] + text["sh_size"]
        dwarf = elf.get_dwarf_info()
        out = []
        for cu in dwarf.iter_CUs():
            program = dwarf.line_program_for_CU(cu)
            if program is None:
                continue
            header = program.header
            top = cu.get_top_DIE().attributes.get("DW_AT_comp_dir")
            comp_dir = top.value.decode() if top is not None else ""
            dirs = [d.decode() if isinstance(d, bytes) else d for d in header["include_directory"]]
            files = header["file_entry"]
            version = header["version"]

            def name(index):
                # DWARF 5 numbers files from 0, earlier versions from 1.
                entry = files[index if version >= 5 else index - 1]
                file = entry.name.decode() if isinstance(entry.name, bytes) else entry.name
                dir_index = entry.dir_index
                directory = comp_dir
                if version >= 5:
                    directory = dirs[dir_index] if dir_index < len(dirs) else ""
                elif dir_index > 0:
                    directory = dirs[dir_index - 1]
                if file.startswith("/") or not directory:
                    return file
                if not directory.startswith("/"):
                    directory = f"{comp_dir}/{directory}"
                return f"{directory}/{file}"

            previous = None
            for entry in program.get_entries():
                state = entry.state
                if state is None:
                    continue
                if previous is not None and not previous.end_sequence:
                    size = state.address - previous.address
                    if size > 0 and start <= previous.address < end:
                        out.append((previous.address, size, name(previous.file)))
                previous = state if not state.end_sequence else None
        return out, text["sh_size"]


def group(path):
    """The crate, and for mqtt-sansio the module, a source path belongs to."""
    match = re.search(r"library/(core|alloc|std)/src/(\w+)", path)
    if match:
        return f"{match.group(1)}::{match.group(2)}"
    if "compiler-builtins" in path:
        return "compiler_builtins"
    match = re.search(r"/registry/src/[^/]+/([A-Za-z_\-]+?)-\d[^/]*/", path)
    if match:
        return match.group(1)
    match = re.search(r"/embedded/(src/.*)$", path)
    if match:
        return f"firmware: {match.group(1)}"
    match = re.search(r"/src/(client|codec|packet|property|types)/(\w+)\.rs$", path)
    if match:
        return f"mqtt-sansio {match.group(1)}/{match.group(2)}"
    match = re.search(r"/src/(\w+)\.rs$", path)
    if match:
        return f"mqtt-sansio {match.group(1)}"
    return "other"


def totals(path):
    sizes = collections.Counter()
    seen = set()
    entries, text_size = rows(path)
    for address, size, file in entries:
        # Overlapping sequences are rare; count each address once.
        if address in seen:
            continue
        seen.add(address)
        sizes[group(file)] += size
    return sizes, text_size


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    top = 40
    if "--top" in sys.argv:
        top = int(sys.argv[sys.argv.index("--top") + 1])
        args = [a for a in args if a != str(top)]
    sizes, text_size = totals(args[0])
    base = collections.Counter()
    if len(args) > 1:
        base, _ = totals(args[1])
    diff = {k: sizes.get(k, 0) - base.get(k, 0) for k in set(sizes) | set(base)}
    covered = sum(sizes.values())
    print(f".text {text_size} B, {covered} B of it with a source line")
    crate = collections.Counter()
    for key, value in diff.items():
        crate["mqtt-sansio" if key.startswith("mqtt-sansio") else key.split("::")[0].split(":")[0]] += value
    print("\nby crate" + (" (difference)" if base else ""))
    for key, value in sorted(crate.items(), key=lambda kv: -kv[1]):
        if value:
            print(f"  {value:7d}  {key}")
    print("\nby module" + (" (difference)" if base else ""))
    for key, value in sorted(diff.items(), key=lambda kv: -kv[1])[:top]:
        if value:
            print(f"  {value:7d}  {key}")


if __name__ == "__main__":
    main()
