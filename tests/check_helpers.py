"""Helpers shared by the check tests: name a test solution, and read a check's failure."""

import pytest

from gan_lab.checks import CheckFailed


def named(name):
    """Give a test solution the course's function name, as a student's function would have."""

    def rename(fn):
        fn.__name__ = name
        return fn

    return rename


def failure(check, solution):
    """Run `check` on a wrong solution and return its CheckFailed message (one or two lines)."""
    with pytest.raises(CheckFailed) as info:
        check(solution)
    message = str(info.value)
    assert len(message.splitlines()) <= 2
    return message
