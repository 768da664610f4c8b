"""Read a value out of a /metrics answer (Prometheus's text format)."""

from __future__ import annotations


def value(text: str, name: str) -> float:
    """The sum of the samples called `name`, or of the one series `name{labels}` written as
    the exposition writes it (labels in alphabetical order); 0 when there is none yet."""
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(name + " ") or line.startswith(name + "{")
    )


def increase(before: str, after: str, name: str) -> float:
    """How much `name` (as in value()) grew between two /metrics answers."""
    return value(after, name) - value(before, name)
