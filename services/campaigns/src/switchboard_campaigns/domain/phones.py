"""Phone numbers as E.164: the one normalization every imported contact goes through."""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

_MAX_INPUT = 64  # longer is not a phone number, however it is formatted


class InvalidPhone(ValueError):
    """The text is not a valid phone number; `reason` says why, in words for the user."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def check_region(region: str | None) -> str | None:
    """The default region as phonenumbers wants it ("br" → "BR"), or ValueError if unknown."""
    if region is None:
        return None
    upper = region.strip().upper()
    if upper not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"unknown region {region!r} (expected an ISO 3166 code such as BR, DE or US)")
    return upper


def normalize(raw: str, default_region: str | None) -> str:
    """`raw` as E.164 ("+5511987654321"). Spaces, dashes, dots and parentheses are ignored; a
    leading `+` or `00` gives the country code, otherwise `default_region` (ISO code) is used."""
    text = raw.strip()
    if not text:
        raise InvalidPhone("missing phone number")
    if len(text) > _MAX_INPUT:
        raise InvalidPhone("not a phone number")
    candidates = [(text, default_region.upper() if default_region else None)]
    if text.startswith("00"):  # 00 as the international prefix, whatever the region
        candidates.append(("+" + text[2:], None))
    error: NumberParseException | None = None
    for candidate, region in candidates:
        try:
            number = phonenumbers.parse(candidate, region)
        except NumberParseException as exc:
            error = exc
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, PhoneNumberFormat.E164)
        error = None
    raise InvalidPhone(_reason(error, candidate))


def _reason(error: NumberParseException | None, text: str) -> str:
    """Why the last candidate was refused, in words for the user."""
    if error is None:
        return "invalid number for its region"
    if error.error_type == NumberParseException.INVALID_COUNTRY_CODE:
        return "unknown country code" if text.startswith("+") else "no country code and no default region"
    return "not a phone number"
