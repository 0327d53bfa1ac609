"""The health endpoint for load balancers and monitors: /sante/.

A small view rather than django-health-check: what we need to know is three questions (database,
migrations, worker), and the worker's heartbeat is specific to django-tasks' database backend,
which django-health-check does not cover; a dependency with its own apps and settings for three
queries is not worth it.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Max, Min
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django_tasks_db.models import DBTaskResult


def _database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return {"ok": False, "message": "Base de données injoignable."}
    return {"ok": True, "message": "Base de données joignable."}


def _migrations() -> dict:
    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:
        names = ", ".join(f"{migration.app_label}.{migration.name}" for migration, _ in pending)
        return {"ok": False, "message": f"Migrations non appliquées : {names}."}
    return {"ok": True, "message": "Toutes les migrations sont appliquées."}


def _worker() -> dict:
    """The worker leaves no heartbeat of its own when idle, so its health is read from the task
    table: a task ready for longer than HEALTH_MAX_TASK_WAIT means no worker takes the queue."""
    now = timezone.now()
    ready = DBTaskResult.objects.ready().aggregate(oldest=Min("enqueued_at"))["oldest"]
    last = DBTaskResult.objects.aggregate(started=Max("started_at"), finished=Max("finished_at"))
    waiting = (now - ready) if ready else timedelta(0)
    limit = timedelta(seconds=settings.HEALTH_MAX_TASK_WAIT)
    details = {
        "oldest_ready_task_age_seconds": int(waiting.total_seconds()),
        "last_task_started_at": last["started"].isoformat() if last["started"] else None,
        "last_task_finished_at": last["finished"].isoformat() if last["finished"] else None,
    }
    if waiting > limit:
        minutes = int(waiting.total_seconds() // 60)
        message = (
            f"Une tâche attend depuis {minutes} min : le worker (manage.py db_worker) ne traite plus la file."
        )
        return {"ok": False, "message": message, **details}
    return {"ok": True, "message": "Le worker traite la file d'attente.", **details}


@login_not_required
@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database()}
    if checks["database"]["ok"]:
        try:
            checks["migrations"] = _migrations()
            checks["worker"] = _worker()
        except DatabaseError:
            checks["database"] = {"ok": False, "message": "Base de données injoignable."}
    healthy = all(check["ok"] for check in checks.values())
    body = {"status": "ok" if healthy else "erreur", "checks": checks}
    return JsonResponse(body, status=200 if healthy else 503, json_dumps_params={"ensure_ascii": False})
