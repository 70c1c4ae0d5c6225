from django.core.exceptions import ValidationError
from django.core.validators import validate_email


def email_list(value: str) -> str:
    """A comma- (or semicolon-) separated list of addresses, normalized; raises a ValidationError
    naming the first one that is not an address."""
    addresses = [
        part.strip().lower() for part in value.replace(";", ",").split(",") if part.strip()
    ]
    for address in addresses:
        try:
            validate_email(address)
        except ValidationError as exc:
            raise ValidationError(f"{address} is not an email address.") from exc
    return ", ".join(addresses)
