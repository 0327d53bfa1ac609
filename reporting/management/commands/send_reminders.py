from django.core.management.base import BaseCommand, CommandError

from axes.models import Plan
from reporting.reminders import send_reminders
from reporting.tasks import send_reminders_task


class Command(BaseCommand):
    help = (
        "Envoie à chacun, par plan, le récapitulatif de ce qui le concerne (échéances, fiches en retard "
        "ou sans mise à jour, décisions, prochain COPIL), une seule fois par semaine ou par mois."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="affiche qui recevrait quoi, n'envoie rien"
        )
        parser.add_argument("--plan", metavar="SLUG", help="un seul plan, ex. val-aigo")
        parser.add_argument(
            "--queue", action="store_true", help="confie l'envoi au worker des tâches (manage.py db_worker)"
        )

    def handle(self, *args, dry_run=False, plan=None, queue=False, **options):
        plans = Plan.objects.all()
        if plan:
            plans = plans.filter(slug=plan)
            if not plans.exists():
                raise CommandError(f"Aucun plan « {plan} ».")
        if queue and not dry_run:
            send_reminders_task.enqueue(plan)
            self.stdout.write("Envoi des rappels confié au worker des tâches.")
            return
        result = send_reminders(plans, dry_run=dry_run)
        for digest in result.sent:
            self.stdout.write(("À envoyer : " if dry_run else "Envoyé : ") + digest.describe())
        if dry_run:
            self.stdout.write(
                f"{len(result.sent)} rappel(s) seraient envoyés (simulation : rien n'a été envoyé)."
            )
        else:
            sent, elsewhere = len(result.sent), len(result.already_sent)
            self.stdout.write(f"{sent} rappel(s) envoyé(s), {elsewhere} déjà envoyé(s) par ailleurs.")
