#!/usr/bin/env python3
"""No import circles in `backend`: a module may not import one that imports it back, directly
or through others. Reads every `use crate::…`, `use super::…` and `crate::…` path in
backend/src (tests excluded), maps each to the module it names, and fails on any strongly
connected group of modules, printing the edges that close it.

A parent's `mod child;` and `pub use child::…` are not imports: they are how Rust publishes a
child, so a child's `use super::Thing` of what its parent defines is allowed.
"""
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "backend", "src")


def module_of(path):
    parts = os.path.relpath(path, ROOT)[:-3].split(os.sep)
    if parts[-1] in ("mod", "lib"):
        parts = parts[:-1]
    return parts


def expand(tree, prefix):
    """`a::{b, c::d}, e` → [[a, b], [a, c, d], [e]]."""
    items, depth, cur = [], 0, ""
    for ch in tree:
        depth += ch == "{"
        depth -= ch == "}"
        if ch == "," and depth == 0:
            items.append(cur)
            cur = ""
        else:
            cur += ch
    items.append(cur)
    out = []
    for item in (i.strip() for i in items):
        if not item:
            continue
        group = re.match(r"^([\w:]*?)(?:::)?\{(.*)\}$", item, re.S)
        if group:
            out += expand(group.group(2), prefix + [p for p in group.group(1).split("::") if p])
        else:
            out.append(prefix + [p for p in item.split(" as ")[0].strip().split("::") if p])
    return out


def graph():
    files = [os.path.join(d, f) for d, _, fs in os.walk(ROOT) for f in fs if f.endswith(".rs")]
    modules = {"::".join(module_of(f)) for f in files}
    edges = {}
    for path in files:
        me = module_of(path)
        source = open(path, encoding="utf-8").read()
        source = re.split(r"#\[cfg\(test\)\]\s*mod tests", source)[0]
        source = re.sub(r"//[^\n]*", "", source)
        paths = []
        for tree in re.findall(r"\buse\s+crate::(.*?);", source, re.S):
            paths += expand(tree, [])
        for tail in re.findall(r"(?<![\w:])crate::([a-z_][\w:]*)", source):
            paths.append(tail.split("::"))
        for ups, tree in re.findall(r"\buse\s+((?:super::)+)(.*?);", source, re.S):
            base = me[: len(me) - ups.count("super::")]
            paths += [base + p for p in expand(tree, [])]
        deps = set()
        for parts in paths:
            for k in range(len(parts), 0, -1):
                name = "::".join(parts[:k])
                if name in modules:
                    deps.add(name)
                    break
        edges["::".join(me)] = deps - {"::".join(me)}
    return edges


def cycles(edges):
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(10_000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def main():
    edges = graph()
    found = cycles(edges)
    for group in found:
        members = set(group)
        print(f"import circle among {len(group)} modules of backend:", file=sys.stderr)
        for v in group:
            back = sorted(w for w in edges[v] if w in members)
            print(f"  {v or 'lib'} -> {', '.join(back)}", file=sys.stderr)
    if found:
        sys.exit(1)
    print(f"no import circles: {len(edges)} modules, {sum(map(len, edges.values()))} imports")


if __name__ == "__main__":
    main()
