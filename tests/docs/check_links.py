# SPDX-FileCopyrightText: 2026 spectral contributors
# SPDX-License-Identifier: Apache-2.0
"""Every link in the Markdown documentation resolves inside the repository.

Checked:
- each Markdown link and image `[text](target)` in README.md, CHANGELOG.md, docs/ and every
  other README.md: a relative target must name an existing file or folder, and a `#anchor`
  must exist in the target Markdown file (an explicit `<a id="...">` or a heading's GitHub slug);
- each `docs/<page>.md#anchor` that code, tests, scripts and help texts cite resolves the same way;
- no source cites the internal spec or a tracker item (they are not in the repository).

Usage: check_links.py REPOSITORY_ROOT. Prints one line per problem; exit status 1 if any.
"""

import functools
import re
import sys
import unicodedata
from pathlib import Path

MARKDOWN_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
EXPLICIT_ANCHOR = re.compile(r"<a\s+(?:id|name)=\"([^\"]+)\"")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
FENCE = re.compile(r"^\s*(```|~~~)")
CODE_CITATION = re.compile(r"\bdocs/([A-Za-z0-9_.-]+\.md)#([A-Za-z0-9_-]+)")
SOURCE_SUFFIXES = {".hpp", ".cpp", ".cuh", ".cu", ".py", ".sh", ".txt", ".cmake", ".in", ".md",
                   ".json"}
CODE_FOLDERS = ["include", "tests", "examples", "bench", "torch_bridge", "python", "scripts",
                "cmake", ".ci"]
# Built from parts so that this file does not match its own rule.
FORBIDDEN = re.compile("spec " + "\u00a7" + r"|\bissue [0-9]|spec" + r"\.md")
FORBIDDEN_FOLDERS = ["include", "tests", "examples", "bench", "torch_bridge", "python"]  # ⊂ CODE_FOLDERS
SKIPPED_FOLDERS = {"build", ".git", "__pycache__", ".venv"}


def github_slug(heading):
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"<[^>]+>", "", heading)               # inline HTML
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links keep their text
    text = text.replace("`", "").strip().lower()
    kept = []
    for ch in text:
        category = unicodedata.category(ch)
        if ch in " -_" or category[0] in "LN":
            kept.append(ch)
    return "".join(kept).replace(" ", "-")


def prose_lines(path):
    """(line number, line) of a Markdown file, without fenced code blocks."""
    in_fence = False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence:
            yield number, line


@functools.cache
def anchors_of(path):
    found, seen = set(), {}
    for _, line in prose_lines(path):
        found.update(EXPLICIT_ANCHOR.findall(line))
        heading = HEADING.match(line)
        if heading:
            slug = github_slug(heading.group(2))
            count = seen.get(slug, 0)
            seen[slug] = count + 1
            found.add(slug if count == 0 else f"{slug}-{count}")
    return found


def markdown_links(path):
    """(line number, target) of every link outside code blocks and inline code."""
    for number, line in prose_lines(path):
        for target in MARKDOWN_LINK.findall(re.sub(r"`[^`]*`", "", line)):
            yield number, target


def check_target(root, source, number, target, problems, base=None):
    """`target` is relative to `base` (default: the source's folder)."""
    if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
        return
    path_part, _, anchor = target.partition("#")
    resolved = ((base or source.parent) / path_part).resolve() if path_part else source
    where = f"{source.relative_to(root)}:{number}"
    try:
        resolved.relative_to(root)
    except ValueError:
        problems.append(f"{where}: {target}: points outside the repository")
        return
    if not resolved.exists():
        problems.append(f"{where}: {target}: no such file")
        return
    if anchor:
        if resolved.suffix != ".md":
            problems.append(f"{where}: {target}: an anchor into a file that is not Markdown")
        elif anchor not in anchors_of(resolved):
            problems.append(f"{where}: {target}: no anchor '{anchor}' in {path_part or 'this file'}")


def repository_files(base):
    """Files under `base`, without build trees and version-control folders."""
    for path in sorted(base.iterdir()):
        if path.is_dir() and not path.is_symlink():
            if path.name not in SKIPPED_FOLDERS:
                yield from repository_files(path)
        elif path.is_file():
            yield path


def source_files(root, entries):
    for entry in entries:
        base = root / entry
        candidates = repository_files(base) if base.is_dir() else [base] if base.is_file() else []
        for path in candidates:
            if path.suffix in SOURCE_SUFFIXES or path.name == "CMakeLists.txt":
                yield path


def main():
    root = Path(sys.argv[1]).resolve()
    problems = []

    pages = [root / "README.md", root / "CHANGELOG.md"]
    pages += sorted((root / "docs").rglob("*.md"))
    pages += [p for p in repository_files(root) if p.name == "README.md" and p not in pages]
    checked_links = 0
    for page in pages:
        for number, target in markdown_links(page):
            checked_links += 1
            check_target(root, page, number, target, problems)

    citations = 0
    this_file = Path(__file__).resolve()
    forbidden_bases = [root / folder for folder in FORBIDDEN_FOLDERS]
    for path in source_files(root, CODE_FOLDERS + ["CMakeLists.txt"]):
        check_forbidden = (path.resolve() != this_file and
                           any(path.is_relative_to(base) for base in forbidden_bases))
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace")
                                      .splitlines(), 1):
            for page, anchor in CODE_CITATION.findall(line):
                citations += 1
                check_target(root, path, number, f"docs/{page}#{anchor}", problems, base=root)
            if check_forbidden and FORBIDDEN.search(line):
                problems.append(f"{path.relative_to(root)}:{number}: cites the internal spec or "
                                f"a tracker item: {line.strip()[:80]}")

    for problem in problems:
        print(problem)
    print(f"{len(pages)} pages, {checked_links} links, {citations} citations in code: "
          f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
