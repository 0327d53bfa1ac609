from django.core.management.base import BaseCommand

from partners.models import SignInThrottle


class Command(BaseCommand):
    help = "Débloque un compte (et, avec --ip, une adresse) après trop de tentatives de connexion."

    def add_arguments(self, parser):
        parser.add_argument("username", help="identifiant du compte")
        parser.add_argument("--ip", action="append", default=[], help="adresse IP à débloquer aussi")

    def handle(self, *args, username: str, ip: list[str], **options):
        keys = [SignInThrottle.user_key(username)] + [SignInThrottle.ip_key(address) for address in ip]
        removed = SignInThrottle.objects.unlock(keys)
        self.stdout.write(
            f"{username} débloqué." if removed else f"{username} n'était pas bloqué : rien à faire."
        )
