"""Phone numbers in, E.164 out."""

from __future__ import annotations

import phonenumbers

from switchboard_runtime.http.errors import ApiError


def to_e164(value: str, field: str, default_region: str | None = None) -> str:
    try:
        number = phonenumbers.parse(value, default_region)
    except phonenumbers.NumberParseException as exc:
        raise _invalid(field, value, str(exc)) from exc
    if not phonenumbers.is_valid_number(number):
        raise _invalid(field, value, "not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _invalid(field: str, value: str, reason: str) -> ApiError:
    return ApiError(422, "validation_error", f"invalid fields: {field}",
                    {"fields": [{"field": field, "message": f"{reason} (use E.164, e.g. +4915112345678)",
                                 "type": "phone_number"}]})
