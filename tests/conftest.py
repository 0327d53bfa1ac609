from pathlib import Path

import pytest

from actions import plan_format

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
VAL_AIGO = FIXTURES / "val-aigo.json"


@pytest.fixture
def val_aigo(db):
    """The Val'Aïgo plan, loaded the way the run command loads it."""
    return plan_format.import_plan(plan_format.load(VAL_AIGO.read_bytes())).plan


@pytest.fixture
def reader(django_user_model):
    return django_user_model.objects.create_user("lecteur", password="motdepasse-lecteur")


@pytest.fixture
def reader_client(client, reader):
    client.force_login(reader)
    return client
