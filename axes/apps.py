from django.apps import AppConfig


class AxesConfig(AppConfig):
    name = "axes"
    verbose_name = "Plans et axes"
