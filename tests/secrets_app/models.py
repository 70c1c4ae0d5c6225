from django.db import models

from outreach.crypto import EncryptedTextField


class StoredSecret(models.Model):
    label = models.CharField(max_length=50)
    value = EncryptedTextField(blank=True)

    def __str__(self):
        return self.label
