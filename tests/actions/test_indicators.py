"""Indicators of a fiche: defined and filled in by those who may edit the fiche."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from actions.models import Indicator, IndicatorValue
from axes.models import Role
from tests.factories import UserFactory, grant


@pytest.fixture
def coord_client(client, val_aigo):
    client.force_login(
        grant(UserFactory(first_name="Claire", last_name="Dupont"), val_aigo, Role.COORDINATOR)
    )
    return client


def test_define_an_indicator_and_fill_in_its_years(coord_client, val_aigo):
    action = val_aigo.actions.get(number=2)
    create = reverse("item_create", args=["val-aigo", 2, "indicateurs"])
    response = coord_client.post(
        create, {"name": "Familles reçues", "unit": "familles", "baseline": "12", "target": "40"}
    )
    assert response.status_code == 302 and response.url.endswith("#indicateurs")
    indicator = Indicator.objects.get(action=action)
    values = reverse("indicator_value_save", args=["val-aigo", 2, indicator.pk])
    assert coord_client.post(values, {"year": 2024, "value": "15"}).status_code == 302
    assert (
        coord_client.post(values, {"year": 2025, "value": "27,5", "comment": "Après l'affichage"}).status_code
        == 302
    )
    assert list(indicator.values.values_list("year", "value", "comment")) == [
        (2024, Decimal("15.00"), ""),
        (2025, Decimal("27.50"), "Après l'affichage"),
    ]
    html = coord_client.get(action.get_absolute_url()).text
    assert "Familles reçues (familles)" in html and "2025 : 27,50" in html
    # Counts read as counts: "15", not "15,00" (issue 12); a fraction keeps its decimals.
    assert re.search(r"2024 : 15\s*<", html)
    assert "Valeur de référence : 12 ; cible : 40" in html


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"year": 2024, "value": "3"}, "L&#x27;année 2024 a déjà une valeur : modifiez-la plutôt."),
        ({"year": 2031, "value": "3"}, "L&#x27;année doit être comprise entre 2023 et 2027."),
        ({"year": 2025, "value": "beaucoup"}, "Saisissez un nombre."),
    ],
)
def test_bad_values_are_refused_beside_the_field(coord_client, val_aigo, data, message):
    indicator = Indicator.objects.create(action=val_aigo.actions.get(number=2), name="Familles reçues")
    indicator.values.create(year=2024, value=15)
    url = reverse("indicator_value_save", args=["val-aigo", 2, indicator.pk])
    response = coord_client.post(url, data, HTTP_HX_REQUEST="true")
    assert response.status_code == 422 and message in response.text
    assert list(indicator.values.values_list("year", "value")) == [(2024, Decimal("15.00"))]


def test_a_value_changed_meanwhile_is_not_overwritten(coord_client, val_aigo):
    indicator = Indicator.objects.create(action=val_aigo.actions.get(number=2), name="Familles reçues")
    value = indicator.values.create(year=2024, value=15)
    value.save_edit(by=None, value=18)  # a colleague, in the admin
    url = reverse("indicator_value_save", args=["val-aigo", 2, indicator.pk])
    response = coord_client.post(url, {"value_id": value.pk, "year": 2024, "value": "16", "version": 1})
    assert response.status_code == 409
    assert "Valeur actuelle : « 2024 : 18.00 »" in response.text
    value.refresh_from_db()
    assert value.value == Decimal("18.00")


def test_readers_and_other_plans_cannot_touch_indicators(client, val_aigo, reader):
    indicator = Indicator.objects.create(action=val_aigo.actions.get(number=2), name="Familles reçues")
    client.force_login(reader)
    url = reverse("indicator_value_save", args=["val-aigo", 2, indicator.pk])
    assert client.post(url, {"year": 2024, "value": "3"}).status_code == 403
    assert (
        client.post(reverse("item_create", args=["val-aigo", 2, "indicateurs"]), {"name": "X"}).status_code
        == 403
    )
    assert not IndicatorValue.objects.exists() and Indicator.objects.count() == 1
