"""Phone numbers and network addresses, kept only as keyed hashes (PIPL art. 51). No Flask."""
import hashlib
import hmac

import phonenumbers


class InvalidPhone(ValueError):
    """Not a mainland China mobile number."""


def normalise_mobile(raw):
    """The E.164 form (+8613812345678) of a mainland China mobile number, else InvalidPhone."""
    text = "".join(ch for ch in str(raw or "") if ch.isdigit() or ch == "+")
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException as error:
        raise InvalidPhone(raw) from error
    if (number.country_code != 86 or not phonenumbers.is_valid_number(number)
            or phonenumbers.number_type(number) != phonenumbers.PhoneNumberType.MOBILE):
        raise InvalidPhone(raw)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def keyed_hash(key, value):
    """HMAC-SHA256 of ``value`` under ``key``, hex. A plain or salted hash of a phone number
    can be reversed by trying all 10^10 numbers; without the key it cannot."""
    return hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()


def mask(e164):
    """138****5678: enough for a voter to recognise their number, not enough to call it."""
    national = e164[3:] if e164.startswith("+86") else e164
    return f"{national[:3]}****{national[-4:]}"
