#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes every complete program of the given Markdown files into OUTPUT_DIR, so the docs compile.

A fenced block whose info string is `cpp` and that contains `int main(` is a C++ program; one
whose info string is `c` and contains `int main(` is a C program. Nothing else is compiled:
fragments stay fragments. The n-th program of docs/notify.md becomes notify.<n>.cpp (README.md at
the top: README.<n>.cpp; docs/README.md: docs-README.<n>.<ext>), starting at a #line directive so
the compiler's messages point into the Markdown file.

Usage: extract_examples.py OUTPUT_DIR SOURCE_DIR FILE.md...   (FILE.md relative to SOURCE_DIR)
Prints one line per program: NAME|LANGUAGE|PATH, with LANGUAGE CXX or C. A file is rewritten only
when its contents change, so an edit elsewhere in the Markdown rebuilds nothing; programs that
no longer exist are deleted.
"""
import os
import re
import sys

FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
LANGUAGES = {"cpp": ("CXX", "cpp"), "c": ("C", "c")}


def blocks(lines):
    """(info, first line number, body lines) for each fenced block, CommonMark's way."""
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        fence = opening.group("fence")
        info = opening.group("info").strip().split(" ")[0]
        body = []
        j = i + 1
        while j < len(lines):
            closing = FENCE.match(lines[j])
            if (closing and closing.group("fence")[0] == fence[0]
                    and len(closing.group("fence")) >= len(fence)
                    and not closing.group("info").strip()):
                break
            body.append(lines[j])
            j += 1
        yield info, i + 2, body  # 1-based number of the body's first line
        i = j + 1


def stem(relative):
    parts = os.path.normpath(relative).split(os.sep)
    name = os.path.splitext(parts[-1])[0]
    if parts[:-1] == ["docs"] and name != "README":
        return name
    return "-".join(parts[:-1] + [name])


def write_if_changed(path, text):
    try:
        with open(path, encoding="utf-8") as existing:
            if existing.read() == text:
                return
    except FileNotFoundError:
        pass
    with open(path, "w", encoding="utf-8") as out:
        out.write(text)


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    output_dir, source_dir, files = argv[0], argv[1], argv[2:]
    os.makedirs(output_dir, exist_ok=True)
    written = set()
    for relative in files:
        path = os.path.join(source_dir, relative)
        with open(path, encoding="utf-8") as markdown:
            lines = markdown.read().split("\n")
        number = 0
        for info, first_line, body in blocks(lines):
            if info not in LANGUAGES or not any("int main(" in line for line in body):
                continue
            number += 1
            language, extension = LANGUAGES[info]
            name = "%s.%d" % (stem(relative), number)
            program = os.path.join(output_dir, "%s.%s" % (name, extension))
            source = os.path.abspath(path).replace("\\", "/")
            write_if_changed(program, '#line %d "%s"\n%s\n' % (first_line, source, "\n".join(body)))
            written.add(os.path.basename(program))
            print("%s|%s|%s" % (name, language, program))
    for leftover in os.listdir(output_dir):
        if leftover.endswith((".c", ".cpp")) and leftover not in written:
            os.remove(os.path.join(output_dir, leftover))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
