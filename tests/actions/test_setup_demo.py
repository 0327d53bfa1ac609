"""The run command's data step: Val'Aïgo loaded once, demo accounts outside production only."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from actions.models import Action, Status
from axes.models import Plan


def test_loads_the_plan_and_prints_the_logins(db, capsys):
    call_command("setup_demo")
    out = capsys.readouterr().out
    assert "Plan « val-aigo » créé : 6 axes, 20 fiches-actions." in out
    for username, password in [
        ("admin", "ctg-admin-demo"),
        ("coordinateur", "ctg-coordinateur-demo"),
        ("contributeur", "ctg-contributeur-demo"),
        ("lecteur", "ctg-lecteur-demo"),
        ("caf", "ctg-caf-demo"),
    ]:
        assert f"  {username:<13} {password:<24} " in out
        assert get_user_model().objects.get(username=username).check_password(password)
    assert get_user_model().objects.get(username="admin").is_superuser
    assert not get_user_model().objects.get(username="coordinateur").is_staff


def test_running_it_again_keeps_what_people_changed(db, capsys):
    call_command("setup_demo")
    Action.objects.filter(number=1).update(status=Status.DONE, progress=100)
    call_command("setup_demo")
    assert "déjà chargé : conservé tel quel" in capsys.readouterr().out
    assert Plan.objects.count() == 1 and get_user_model().objects.count() == 5
    assert Action.objects.get(number=1).status == Status.DONE


def test_refused_in_production(db, settings):
    settings.DEMO_ACCOUNTS_ALLOWED = False
    with pytest.raises(CommandError, match="interdits en production"):
        call_command("setup_demo")
    assert not get_user_model().objects.exists() and not Plan.objects.exists()
