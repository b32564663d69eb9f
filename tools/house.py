"""The house in figures, from the code alone: ``python tools/house.py counts|graph``.

``counts`` prints what the architecture promises to keep small: modules per
folder, the longest function and module, and the string-key lookups left in
``bench/`` (``x["k"]``, ``x.get("k")``, ``x.pop("k")``, ``x.setdefault("k")``),
each of which should sit at a JSON boundary. ``graph`` prints the import graph
between bench's packages as a Mermaid diagram; docs/architecture.md holds its
output, and a test checks it is still the code's.

Standard library only, reading source as text (``ast``): nothing of the harness
or the project is imported or run.
"""

import argparse
import ast
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
KEY_METHODS = ("get", "pop", "setdefault")


@dataclass
class Counts:
    """What ``counts`` reports, kept as data so a test can check the limits."""

    modules_per_folder: dict[str, int] = field(default_factory=dict)
    lookups_per_module: Counter[str] = field(default_factory=Counter)
    distinct_keys: set[str] = field(default_factory=set)
    functions: list[tuple[int, str]] = field(default_factory=list)  # (lines, module:name)
    modules: list[tuple[int, str]] = field(default_factory=list)  # (lines, module)

    @property
    def lookups(self) -> int:
        return sum(self.lookups_per_module.values())


def _is_key_lookup(node: ast.AST) -> bool:
    if isinstance(node, ast.Subscript):
        return isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str)
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in KEY_METHODS
        and bool(node.args)
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    )


def _key(node: ast.AST) -> str:
    constant = node.slice if isinstance(node, ast.Subscript) else node.args[0]  # type: ignore[attr-defined]
    return str(constant.value)


def count(root: Path = BENCH) -> Counts:
    """Walk every module under ``root`` once and count."""
    counts = Counts()
    folders: Counter[str] = Counter()
    for path in sorted(root.rglob("*.py")):
        name = path.relative_to(root.parent).as_posix()
        source = path.read_text()
        folders[path.parent.relative_to(root.parent).as_posix()] += 1
        counts.modules.append((len(source.splitlines()), name))
        for node in ast.walk(ast.parse(source)):
            if _is_key_lookup(node):
                counts.lookups_per_module[name] += 1
                counts.distinct_keys.add(_key(node))
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                counts.functions.append((lines, f"{name}:{node.name}"))
    counts.modules_per_folder = dict(sorted(folders.items()))
    return counts


def print_counts(counts: Counts) -> None:
    print("modules per folder:")
    for folder, n in counts.modules_per_folder.items():
        print(f"  {n:3d}  {folder}/")
    print(f"string-key lookups: {counts.lookups} over {len(counts.distinct_keys)} keys")
    for name, n in counts.lookups_per_module.most_common(10):
        print(f"  {n:4d}  {name}")
    print("longest functions:")
    for lines, name in sorted(counts.functions, reverse=True)[:5]:
        print(f"  {lines:4d}  {name}")
    print("longest modules:")
    for lines, name in sorted(counts.modules, reverse=True)[:5]:
        print(f"  {lines:4d}  {name}")


def package_of(module: str) -> str:
    """The room a module lives in: its stage package, or the in_* package inside
    one when it runs in another process; ``bench`` for the shared base
    (``errors``, ``numbers``, ``ROOT``).

    ``bench.site.in_site.check`` -> ``site/in_site``;
    ``bench.report.charts.cells`` -> ``report``; ``bench.errors`` -> ``bench``.
    """
    parts = module.split(".")[1:]
    if not BENCH.joinpath(*parts).is_dir():
        parts = parts[:-1]
    if not parts:
        return "bench"
    if len(parts) > 1 and parts[1].startswith("in_"):
        return f"{parts[0]}/{parts[1]}"
    return parts[0]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path) -> set[str]:
    """Every bench module ``path`` imports, at any depth of the file (lazy imports too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "bench")
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] != "bench":
                continue
            for alias in node.names:  # ``from bench.x import module`` names a module
                candidate = f"{node.module}.{alias.name}"
                is_module = BENCH.joinpath(*candidate.split(".")[1:]).with_suffix(".py").exists()
                found.add(candidate if is_module else node.module)
    return found


def package_edges() -> set[tuple[str, str]]:
    edges = set()
    for path in BENCH.rglob("*.py"):
        source = package_of(module_name(path))
        for target in imported_modules(path):
            target_package = package_of(target)
            if target_package not in (source, "bench"):
                edges.add((source, target_package))
    return edges


def cycles(edges: set[tuple[str, str]]) -> list[tuple[str, str]]:
    """Pairs of packages that import each other, directly or through others."""
    reach: dict[str, set[str]] = {}
    for source, target in edges:
        reach.setdefault(source, set()).add(target)
    changed = True
    while changed:
        changed = False
        for targets in reach.values():
            more = set().union(*(reach.get(t, set()) for t in targets)) - targets
            if more:
                targets |= more
                changed = True
    return sorted((a, b) for a in reach for b in reach[a] if a < b and a in reach.get(b, set()))


def _node_id(package: str) -> str:
    return package.replace("/", "_")


def mermaid() -> str:
    """The package graph; in_* packages (run in another process) drawn apart."""
    edges = package_edges()
    packages = sorted({p for edge in edges for p in edge})
    lines = ["```mermaid", "flowchart TD"]
    for package in packages:
        shape = (
            f'{_node_id(package)}[["{package}"]]'
            if "/in_" in package
            else (f'{_node_id(package)}["{package}"]')
        )
        lines.append(f"    {shape}")
    for source, target in sorted(edges):
        lines.append(f"    {_node_id(source)} --> {_node_id(target)}")
    lines.append("```")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("what", choices=["counts", "graph"])
    args = parser.parse_args(argv)
    if args.what == "counts":
        print_counts(count())
    else:
        sys.stdout.write(mermaid())
    return 0


if __name__ == "__main__":
    sys.exit(main())
