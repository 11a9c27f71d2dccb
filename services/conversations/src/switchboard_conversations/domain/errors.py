"""What the inbox's decisions refuse: an illegal status change (409 at the API) and an invalid value
(422 naming the field)."""

from __future__ import annotations


class IllegalTransition(Exception):
    def __init__(self, current: str, wanted: str):
        super().__init__(f"a conversation that is {current} cannot become {wanted}")
        self.current, self.wanted = current, wanted


class InvalidChange(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message
