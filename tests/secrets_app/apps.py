from django.apps import AppConfig


class SecretsAppConfig(AppConfig):
    name = "tests.secrets_app"
    label = "secrets_app"
