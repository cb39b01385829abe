"""Signatures read from the source text, for checks that must not import what they check.

Every Snakemake call (each dry run, each SLURM job's own) checks the configuration before
it plans: the attribution methods' parameters against their functions' signatures, the
ViT's options against its constructor's defaults. Importing those modules would import
torch, a second or more of every call; reading their source with :mod:`ast` does not.
The project's modules use ``from __future__ import annotations``, so an annotation is
the text it was written as: what :func:`yaml_types` reads. ``tests/test_signatures.py``
checks that this agrees with :func:`inspect.signature` and :func:`typing.get_type_hints`
on every registered method and architecture.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: What a YAML value can be, by the name an annotation gives its type.
YAML_TYPES: dict[str, type] = {"bool": bool, "int": int, "float": float, "str": str,
                               "None": type(None)}
#: The default of a parameter that has none, or whose default is not a literal.
NO_LITERAL = object()


@dataclass(frozen=True)
class Parameter:
    """One parameter as written: its name, its annotation's text (None without one) and its
    default (:data:`NO_LITERAL` when it has none or it is not a Python literal)."""

    name: str
    annotation: str | None
    default: Any


def source_parameters(module: str, name: str) -> list[Parameter]:
    """The parameters of function ``name`` in ``module``, in order (keyword-only ones after
    the others); for a class, those of its ``__init__`` after ``self``. The module's file is
    found without executing it (its packages are imported, as by any import)."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(f"no module {module!r} to read {name!r} from")
    definition = _definitions(Path(spec.origin))[name]
    if isinstance(definition, ast.ClassDef):
        init = next(node for node in definition.body
                    if isinstance(node, ast.FunctionDef) and node.name == "__init__")
        return _parameters(init.args)[1:]
    return _parameters(definition.args)


@functools.cache
def _definitions(path: Path) -> dict[str, ast.FunctionDef | ast.ClassDef]:
    """The module-level functions and classes of the file at ``path``, by name."""
    tree = ast.parse(path.read_text(), filename=str(path))
    return {node.name: node for node in tree.body
            if isinstance(node, ast.FunctionDef | ast.ClassDef)}


def _parameters(arguments: ast.arguments) -> list[Parameter]:
    positional = [*arguments.posonlyargs, *arguments.args]
    defaults = [None] * (len(positional) - len(arguments.defaults)) + list(arguments.defaults)
    pairs = [*zip(positional, defaults, strict=True),
             *zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True)]
    return [Parameter(argument.arg,
                      None if argument.annotation is None else ast.unparse(argument.annotation),
                      _literal(default))
            for argument, default in pairs]


def _literal(node: ast.expr | None) -> Any:
    if node is None:
        return NO_LITERAL
    try:
        return ast.literal_eval(node)
    except ValueError:
        return NO_LITERAL


def yaml_types(annotation: str | None) -> list[type]:
    """The types among :data:`YAML_TYPES` that ``annotation`` admits: its members if it is a
    union written with ``|``, else itself. Other types (a tensor, a module) admit no YAML
    value and are left out; so is everything when there is no annotation."""
    if annotation is None:
        return []
    return _union_members(ast.parse(annotation, mode="eval").body)


def _union_members(node: ast.expr) -> list[type]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _union_members(node.left) + _union_members(node.right)
    if isinstance(node, ast.Constant) and node.value is None:
        return [type(None)]
    if isinstance(node, ast.Name) and node.id in YAML_TYPES:
        return [YAML_TYPES[node.id]]
    return []
