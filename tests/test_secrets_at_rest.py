import pytest
from django.core.management import call_command
from django.db import connection

from outreach.crypto import UndecryptableSecret, generate_key
from tests.secrets_app.models import StoredSecret

REFRESH_TOKEN = "1//0refresh-token-of-a-recruiter"


def raw_value(pk):
    with connection.cursor() as cursor:
        cursor.execute("SELECT value FROM secrets_app_storedsecret WHERE id = %s", [pk])
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_secret_is_stored_encrypted_and_read_back_in_clear():
    secret = StoredSecret.objects.create(label="gmail", value=REFRESH_TOKEN)

    assert REFRESH_TOKEN not in raw_value(secret.pk)
    assert StoredSecret.objects.get(pk=secret.pk).value == REFRESH_TOKEN


@pytest.mark.django_db
def test_rotation_moves_every_secret_to_the_new_key(settings, capsys):
    old_key, new_key = generate_key(), generate_key()
    settings.FIELD_ENCRYPTION_KEYS = [old_key]
    secrets = [
        StoredSecret.objects.create(label=f"s{i}", value=f"{REFRESH_TOKEN}-{i}") for i in range(3)
    ]

    # The operator puts the new key first (old values still readable), then re-encrypts.
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    call_command("reencrypt_secrets")
    assert "secrets_app.StoredSecret: 3 rows re-encrypted" in capsys.readouterr().out

    # With the old key dropped, everything still opens.
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    assert sorted(StoredSecret.objects.values_list("value", flat=True)) == [
        f"{REFRESH_TOKEN}-{i}" for i in range(3)
    ]
    # And a key that was never used cannot read them: they really are encrypted under new_key.
    settings.FIELD_ENCRYPTION_KEYS = [generate_key()]
    with pytest.raises(UndecryptableSecret):
        StoredSecret.objects.get(pk=secrets[0].pk)


@pytest.mark.django_db
def test_dropping_a_key_before_rotating_fails_loudly(settings):
    settings.FIELD_ENCRYPTION_KEYS = [generate_key()]
    secret = StoredSecret.objects.create(label="greenhouse", value="harvest-api-key")

    settings.FIELD_ENCRYPTION_KEYS = [generate_key()]
    with pytest.raises(UndecryptableSecret):
        StoredSecret.objects.get(pk=secret.pk)
