"""The run command's SQLite under concurrent writes: WAL, a busy timeout and immediate
transactions, so nobody is ever answered "database is locked"; a racing save of the same
version of a fiche gets the stale-version refusal instead.

Runs in a subprocess on a file database: the test database is in memory (or PostgreSQL)."""

import json
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

RACE = """
import json, threading
import django
django.setup()
from django.conf import settings
from django.db import OperationalError, connection, transaction

# The database file is a copy of the suite's migrated test database (see the test below).
# The suite's fast hasher (tests/conftest.py): these twenty people never sign in.
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
from actions.models import Action, StaleVersion, Status
from tests.factories import ActionFactory, NoteFactory, UserFactory

shared = ActionFactory()
own = [ActionFactory(axis=shared.axis) for _ in range(10)]
users = [UserFactory() for _ in range(20)]
barrier, outcomes = threading.Barrier(20), []
connection.close()


def same_fiche(user):
    # Everyone saves the version they saw: one wins, the others are refused.
    try:
        barrier.wait(timeout=30)
        with transaction.atomic():
            action = Action.locked(shared.pk, version=shared.version)
            action.save_edit(by=user, status=Status.IN_PROGRESS)
        outcomes.append("saved")
    except StaleVersion:
        outcomes.append("refused")
    except OperationalError as error:
        outcomes.append(f"error: {error}")
    finally:
        connection.close()


def own_fiche(user, action):
    # Everyone writes a different fiche and a note: all are saved.
    try:
        barrier.wait(timeout=30)
        with transaction.atomic():
            fresh = Action.locked(action.pk, version=action.version)
            fresh.save_edit(by=user, status=Status.ON_HOLD)
            NoteFactory(action=fresh)
        outcomes.append("own saved")
    except OperationalError as error:
        outcomes.append(f"error: {error}")
    finally:
        connection.close()


threads = [threading.Thread(target=same_fiche, args=(user,)) for user in users[:10]]
threads += [threading.Thread(target=own_fiche, args=(user, action)) for user, action in zip(users[10:], own)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join(timeout=60)
done = Action.objects.filter(status=Status.ON_HOLD).count()
version = Action.objects.get(pk=shared.pk).version
# migrate put the CAF overview's triggers in place (reporting/figures.py); they counted the saves.
from reporting import figures
from reporting.models import PlanChanges

triggers = len(figures.installed(connection))
counted = PlanChanges.objects.get(plan=shared.plan).n
report = {"outcomes": sorted(outcomes), "done": done, "version": version}
print(json.dumps({**report, "triggers": triggers, "counted": counted}))
"""


def test_racing_saves_on_sqlite_never_meet_a_locked_database(tmp_path, django_db_setup, django_db_blocker):
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("lancé par la passe SQLite de scripts/test, sur sa propre base SQLite")
    # The file database starts as a copy of this process's migrated test database (schema, the
    # overview's triggers and the starting lists, as migrate leaves them): migrating a file
    # database again took 20 s, most of it waiting for the disk.
    # Outside any test transaction: the in-memory database's shared cache would refuse a copy
    # while one is open.
    database = tmp_path / "db.sqlite3"
    with django_db_blocker.unblock(), closing(sqlite3.connect(database)) as copy:
        connection.ensure_connection()
        connection.connection.backup(copy)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))}
    env.update(DATABASE_URL=f"sqlite:///{database}", DJANGO_SETTINGS_MODULE="ctg.settings")
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", RACE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert not [o for o in report["outcomes"] if o.startswith("error")], report
    assert report["outcomes"] == ["own saved"] * 10 + ["refused"] * 9 + ["saved"]
    assert report["done"] == 10 and report["version"] == 2
    # The 11 fiches of the plan created, then 11 of them saved: each write counted.
    assert report["triggers"] == 9 and report["counted"] >= 22


def test_every_page_answers_on_the_run_commands_database(client, val_aigo):
    """scripts/run serves SQLite: every page and fragment answers there as on PostgreSQL (a query
    SQLite refuses once made every fiche page answer 500 there while PostgreSQL's tests passed).
    Run by scripts/test's SQLite pass; on PostgreSQL the HTML checker's walk covers the same."""
    from django.db import connection

    from tests.every_page import every_page

    if connection.vendor != "sqlite":
        pytest.skip("sur PostgreSQL, tests/test_vnu.py parcourt les mêmes pages")
    assert len(every_page(client, val_aigo)) > 40
