"""Papermill's ``parameters`` convention: read the defaults for a form, inject the chosen values.

A notebook may tag one cell ``parameters``; its top-level assignments are the defaults. Values chosen
for a run go into a new cell tagged ``injected-parameters`` right after it (at the top when there is
no such cell), so the chosen values override the defaults and the output notebook shows both.
"""

from __future__ import annotations

import ast
import io
import json
import tokenize
from typing import Any, Optional

import nbformat
from pydantic import BaseModel, Field

PARAMETERS_TAG = "parameters"
INJECTED_TAG = "injected-parameters"


class Parameter(BaseModel):
    name: str
    default: Any = Field(None, description="the default as a JSON value, when it is a literal")
    literal: bool = Field(True, description="the default is a literal (numbers, strings, lists, dicts...)")
    source: str = Field(description="the default's Python source")
    type: Optional[str] = Field(None, description="annotation, or the default's type: int float str bool list dict None")
    help: Optional[str] = Field(None, description="the comment at the end of the line")


def _tags(cell) -> list[str]:
    tags = cell.get("metadata", {}).get("tags", [])
    return list(tags) if isinstance(tags, (list, tuple)) else []


def parameters_cell_index(nb) -> Optional[int]:
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and PARAMETERS_TAG in _tags(cell):
            return index
    return None


def _type_of(value: Any) -> str:
    if value is None:
        return "None"
    return type(value).__name__


def _comments(source: str) -> dict[int, str]:
    comments: dict[int, str] = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT:
                comments[token.start[0]] = token.string.lstrip("#").strip()
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return comments


def read_parameters(source: str) -> list[Parameter]:
    """The top-level ``name = value`` (or ``name: type = value``) lines of a parameters cell."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    comments = _comments(source)
    found: dict[str, Parameter] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name, value, annotation = node.targets[0].id, node.value, None
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            name, value, annotation = node.target.id, node.value, ast.get_source_segment(source, node.annotation)
        else:
            continue
        text = ast.get_source_segment(source, value) or ""
        try:
            default = ast.literal_eval(value)
            json.dumps(default)
            literal = True
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            default, literal = None, False
        found[name] = Parameter(
            name=name,
            default=default if literal else None,
            literal=literal,
            source=text,
            type=annotation or (_type_of(default) if literal else None),
            help=comments.get(getattr(node, "end_lineno", node.lineno)),
        )
    return list(found.values())


def python_assignment(name: str, value: Any) -> str:
    """``name = <value as Python>`` for a JSON value (JSON's true/false/null become True/False/None)."""
    return f"{name} = {value!r}"


def inject_parameters(nb, parameters: dict[str, Any]) -> Optional[int]:
    """Insert (replacing any earlier one) the ``injected-parameters`` cell; returns its index."""
    nb.cells = [cell for cell in nb.cells if INJECTED_TAG not in _tags(cell)]
    if not parameters:
        return None
    lines = ["# Parameters (injected by tritonml-lab for this run)"]
    lines += [python_assignment(name, value) for name, value in parameters.items()]
    cell = nbformat.v4.new_code_cell(source="\n".join(lines) + "\n", metadata={"tags": [INJECTED_TAG]})
    if (nb.get("nbformat"), nb.get("nbformat_minor", 0)) < (4, 5):
        cell.pop("id", None)  # cell ids came with nbformat 4.5
    after = parameters_cell_index(nb)
    index = 0 if after is None else after + 1
    nb.cells.insert(index, cell)
    return index
