#!/usr/bin/env python3
"""Fails when folders of Sources/Common use each other in a loop (docs/architecture.md, "Targets and folders").

A folder uses another when one of its files names a type declared there. Folders must form layers: any loop
(Transport -> Rooms -> Transport, say) is reported with the type names that make each edge, so the fix is clear.
Run by scripts/check; `--graph` prints every folder's dependencies.
"""
import collections
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Sources", "Common")
DECLARATION = re.compile(
    r"^(?:public |package |private |fileprivate )?(?:final )?(?:class|struct|enum|protocol|typealias|actor)\s+(\w+)", re.M)


def swift_files():
    for directory, _, names in os.walk(ROOT):
        for name in names:
            if name.endswith(".swift"):
                path = os.path.join(directory, name)
                folder = os.path.relpath(path, ROOT).split(os.sep)[0]
                if not folder.endswith(".swift"):  # files at the top (Exports.swift) belong to no folder
                    yield folder, path


def main():
    sources = {path: (folder, open(path).read()) for folder, path in swift_files()}
    declared = {}
    for folder, text in sources.values():
        for name in DECLARATION.findall(text):
            declared.setdefault(name, folder)
    uses = collections.defaultdict(set)
    because = collections.defaultdict(set)
    for path, (folder, text) in sources.items():
        code = re.sub(r"//.*", "", text)
        for name, home in declared.items():
            if home != folder and re.search(r"\b" + name + r"\b", code):
                uses[folder].add(home)
                because[(folder, home)].add(f"{name} in {os.path.basename(path)}")
    if "--graph" in sys.argv:
        for folder in sorted(set(f for f, _ in sources.values())):
            print(f"{folder} -> {', '.join(sorted(uses[folder])) or '-'}")
    loops = strongly_connected([f for f, _ in sources.values()], uses)
    for loop in loops:
        print("import loop between folders of Common: " + ", ".join(sorted(loop)), file=sys.stderr)
        for a in sorted(loop):
            for b in sorted(uses[a] & set(loop)):
                print(f"  {a} -> {b}: {', '.join(sorted(because[(a, b)]))}", file=sys.stderr)
    return 1 if loops else 0


def strongly_connected(nodes, edges):
    """Tarjan's algorithm; returns the components of more than one folder."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in edges[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(component)

    for node in sorted(set(nodes)):
        if node not in index:
            visit(node)
    return found


if __name__ == "__main__":
    sys.exit(main())
