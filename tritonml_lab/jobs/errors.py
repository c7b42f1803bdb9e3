"""The user's mistakes, as the domain tells them: a request that cannot be done as given.

Kept apart from pydantic's ``ValidationError``: that one may come from a model the code builds itself
(a bug, a 500 in the API), while these are always about what the user sent (a 400). The core turns a
request's ``ValidationError`` into :class:`InvalidRequest` where it validates what the user gave
(``spec.parse``, ``spec.resolve``), so no pydantic error stands for a user's mistake past that point.
"""

from __future__ import annotations

from typing import Any


class BadJobRequest(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidRequest(BadJobRequest):
    """A request that breaks the rules, with what each field got wrong (``fields``: the API's
    ``errors``, the magic's lines per option)."""

    def __init__(self, fields: list[dict[str, str]], what: str = "job") -> None:
        self.fields = fields
        super().__init__(f"Invalid {what}: " + "; ".join(f"{e['field']}: {e['message']}" for e in fields))

    @classmethod
    def of(cls, exc: Any, what: str = "job") -> "InvalidRequest":
        """From the ValidationError of a model that held what the user gave."""
        return cls(field_errors(exc), what)


def field_errors(exc: Any) -> list[dict[str, str]]:
    """pydantic ValidationError (or InvalidRequest) -> [{"field": "gpus", "message": "..."}]."""
    if isinstance(exc, InvalidRequest):
        return list(exc.fields)
    errors = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error.get("loc", ())) or "spec"
        message = str(error.get("msg", "invalid"))
        message = message.removeprefix("Value error, ")
        if error.get("type") == "extra_forbidden":
            message = "unknown field"
        errors.append({"field": field, "message": message})
    return errors
