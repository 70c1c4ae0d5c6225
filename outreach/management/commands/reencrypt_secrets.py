from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from outreach.crypto import EncryptedTextField

BATCH = 500


class Command(BaseCommand):
    help = (
        "Re-encrypts every stored secret under the first FIELD_ENCRYPTION_KEYS key. Run it after "
        "putting a new key first; drop the old key from the list only once this has finished."
    )

    def handle(self, *args, **options):
        total = 0
        for model in apps.get_models():
            fields = [
                f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)
            ]
            if not fields:
                continue
            count = self._reencrypt(model, fields)
            total += count
            self.stdout.write(
                f"{model._meta.label}: {count} rows re-encrypted ({', '.join(fields)})"
            )
        self.stdout.write(self.style.SUCCESS(f"Done: {total} rows now use the first key."))

    def _reencrypt(self, model, fields) -> int:
        count, last_pk = 0, None
        while True:
            with transaction.atomic():
                rows = model._base_manager.select_for_update().order_by("pk")
                if last_pk is not None:
                    rows = rows.filter(pk__gt=last_pk)
                batch = list(rows.only("pk", *fields)[:BATCH])
                if not batch:
                    return count
                # Reading decrypted with whichever key fits; saving encrypts with the first one.
                model._base_manager.bulk_update(batch, fields)
            count += len(batch)
            last_pk = batch[-1].pk
