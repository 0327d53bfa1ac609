from pathlib import Path

import pytest

from actions.plan_io import open_format
from axes.models import Role
from tests.factories import UserFactory, grant

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
VAL_AIGO = FIXTURES / "val-aigo.json"


@pytest.fixture
def val_aigo(db):
    """The Val'Aïgo plan, loaded the way the run command loads it."""
    return open_format.import_plan(open_format.load(VAL_AIGO.read_bytes())).plan


@pytest.fixture
def reader(val_aigo):
    """An élu of the COPIL: reads the Val'Aïgo plan."""
    return grant(UserFactory(username="lecteur"), val_aigo, Role.READER)


@pytest.fixture
def reader_client(client, reader):
    client.force_login(reader)
    return client
