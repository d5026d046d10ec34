"""Use cases the sample workflow names (plain functions; the validator only resolves them)."""

from typing import Any

VERSION = 1  # not callable: a use case naming it is WF105


def check_lines(ctx: Any) -> None:
    return None


def check_lines_admin(ctx: Any) -> None:
    return None


def notify(ctx: Any) -> None:
    return None


def book(ctx: Any) -> None:
    return None


def send_invoice(ctx: Any) -> None:
    return None


def send_reminder(ctx: Any) -> None:
    return None
