"""Domain errors: each has a stable code and the HTTP status a shell should answer."""

from __future__ import annotations


class TaboorError(Exception):
    """Base of every error Taboor reports to a client."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, **details: object) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details

    def to_dict(self) -> dict[str, object]:
        return {"code": self.code, "message": self.message, **self.details}


class InvalidInput(TaboorError):
    """Malformed, missing or wrong-typed input; `field` names the culprit."""

    status = 400
    code = "invalid_field"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        if field is None:
            super().__init__(message, code=code)
        else:
            super().__init__(message, code=code, field=field)


class Unauthorized(TaboorError):
    status = 401
    code = "unauthorized"


class Forbidden(TaboorError):
    status = 403
    code = "forbidden"


class NotFound(TaboorError):
    status = 404
    code = "not_found"


class UnsupportedMediaType(TaboorError):
    """A request body that is not JSON."""

    status = 415
    code = "unsupported_media_type"


class Conflict(TaboorError):
    status = 409
    code = "conflict"


class InvalidTransition(Conflict):
    """An action that the ticket's current state does not allow."""

    code = "invalid_transition"

    def __init__(self, state: str, action: str) -> None:
        super().__init__(f"cannot {action} a ticket that is {state}", state=state, action=action)
        self.state = state
        self.action = action


class TooManyAttempts(TaboorError):
    """Too many failed sign-ins; `retry_after_s` says when to try again."""

    status = 429
    code = "too_many_attempts"
