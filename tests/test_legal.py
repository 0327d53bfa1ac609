"""The legal pages (issue 12): public, linked from every page's footer, the operator's details
from settings."""

import pytest
from django.urls import reverse

LEGAL = ["accessibility", "legal_notice", "personal_data"]


@pytest.mark.parametrize("name", LEGAL)
def test_legal_pages_are_public_and_linked_from_every_footer(client, db, name):
    response = client.get(reverse(name))
    assert response.status_code == 200
    for other in LEGAL:
        assert f'href="{reverse(other)}"' in response.text
    assert f'href="{reverse(name)}"' in client.get(reverse("login")).text


def test_accessibility_statement_follows_the_rgaa_model(client, db):
    html = client.get(reverse("accessibility")).text
    for part in [
        "<h1>Déclaration d'accessibilité</h1>",
        "partiellement conforme",
        "Résultats des tests",
        "axe-core",
        "320 pixels",
        "Non-conformités",
        "Dérogations pour charge disproportionnée",
        "Retour d'information et contact",
        "Voies de recours",
        "Défenseur des droits",
    ]:
        assert part in html, part


def test_operator_details_come_from_settings(client, db, settings):
    settings.CTG_OPERATOR_NAME = "Communauté de communes de Val'Aïgo"
    settings.CTG_OPERATOR_EMAIL = "contact@valaigo.example"
    settings.CTG_PUBLICATION_DIRECTOR = "Mme la Présidente"
    settings.CTG_HOST_NAME = "Hébergeur Exemple SAS"
    notice = client.get(reverse("legal_notice")).text
    assert "Communauté de communes de Val&#x27;Aïgo" in notice
    assert 'href="mailto:contact@valaigo.example"' in notice
    assert "Mme la Présidente" in notice and "Hébergeur Exemple SAS" in notice
    data = client.get(reverse("personal_data")).text
    for part in ["Compte", "Auteur des notes", "Journal des modifications", "Durée de conservation", "CNIL"]:
        assert part in data, part
