"""The project's error type for problems with the user's input.

:class:`InputError` is raised wherever harmonstats finds a problem in what it was given: a file,
a table, a study YAML, a checkpoint or an argument. Its message is one line naming the file,
subject, column, key or value at fault. The ``harmonstats`` command prints it as that line and
exits with status 2; any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

__all__ = ["InputError"]


class InputError(ValueError):
    """A problem with the user's input, described in one line naming what is at fault.

    A subclass of :class:`ValueError`, so code that catches ``ValueError`` (STYLE rule 4: bad
    input raises ``ValueError``) keeps working.
    """
