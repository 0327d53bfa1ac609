"""Two people saving the same fiche at the same moment: one wins, the other is told."""

import threading

import pytest
from django.db import connection, transaction

from actions.models import Action, StaleVersion, Status
from tests.factories import ActionFactory, UserFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]


def save_status(pk, version, status, by, barrier, outcomes):
    try:
        barrier.wait(timeout=10)
        with transaction.atomic():
            action = Action.locked(pk, version=version)
            action.save_edit(by=by, status=status)
        outcomes.append(("saved", status))
    except StaleVersion as stale:
        outcomes.append(("refused", stale.current.status))
    finally:
        connection.close()


@pytest.mark.parametrize("round_", range(10))
def test_concurrent_saves_of_the_same_version(round_):
    action = ActionFactory()
    alice, bob = UserFactory(), UserFactory()
    barrier, outcomes = threading.Barrier(2), []
    threads = [
        threading.Thread(
            target=save_status, args=(action.pk, action.version, status, user, barrier, outcomes)
        )
        for status, user in [(Status.IN_PROGRESS, alice), (Status.ON_HOLD, bob)]
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(kind for kind, _ in outcomes) == ["refused", "saved"]
    (winner,) = [status for kind, status in outcomes if kind == "saved"]
    (seen_by_loser,) = [status for kind, status in outcomes if kind == "refused"]
    action.refresh_from_db()
    assert action.status == winner == seen_by_loser  # the loser is shown the winner's value
    assert action.version == 2
    assert action.history.count() == 2  # creation and the one save
