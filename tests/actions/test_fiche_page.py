"""The fiche page: every section of the seed's fiche, laid out for reading."""

from actions.models import Step
from tests.factories import ActionFactory, StepFactory, grant


def fiche(client, plan, number):
    response = client.get(f"/plans/{plan.slug}/fiches/{number}/")
    assert response.status_code == 200
    return response.text


def test_every_section_of_the_fiche(reader_client, val_aigo):
    html = fiche(reader_client, val_aigo, 1)
    assert "Action 1 : Envisager la relance des actions suspendues" in html
    assert "Relancer les actions menées par la CCVA dont les ateliers parents enfants" in html
    assert "Communauté de communes de Val&#x27;Aïgo" in html  # the pilot organisation
    for heading in ["Étapes de travail", "Partenaires", "Conditions de réussite / Moyens", "Calendrier"]:
        assert f">{heading}</h2>" in html
    assert "Évaluer les besoins humains et les formations à proposer" in html
    assert "Acteurs de la petite enfance : RPE, EAJE et assistants maternels" in html
    assert "Temps agent nécessaire" in html
    assert '<th scope="row">Début 2024</th>' in html
    assert "relance de la concertation services-élus" in html
    assert '<time datetime="2024-03-31">31/03/2024</time>' in html
    assert "En retard" in html


def test_steps_grouped_by_commune(reader_client, val_aigo):
    html = fiche(reader_client, val_aigo, 12)
    html = html[html.index('id="etapes"') :]
    villemur = html.index("Villemur-sur-Tarn")
    assert villemur < html.index("Mettre en place la PS jeunes") < html.index("Bessières")
    assert html.count('<ol class="substeps">') == 4


def test_done_steps_are_marked(reader_client, val_aigo):
    Step.objects.filter(action__plan=val_aigo, action__number=2, position=0).update(done=True)
    html = fiche(reader_client, val_aigo, 2)
    assert (
        'class="step-text done">Faire un bilan et le partager auprès des élus et partenaires</span>' in html
    )
    assert (
        "Faire un bilan et le partager auprès des élus et partenaires</span>"
        '<span class="visually-hidden"> (réalisée)' in html
    )


def test_empty_sections_say_so(reader_client, val_aigo):
    html = fiche(reader_client, val_aigo, 15)
    assert "Aucun calendrier renseigné." in html
    assert "Aucun indicateur défini." in html and "Aucune note de suivi." in html


def test_open_ended_period(reader_client, val_aigo):
    html = fiche(reader_client, val_aigo, 8)
    assert "Fin 2024 et après" in html and "sans fin" in html


def test_unknown_fiche_and_fiche_of_unknown_plan_are_404(reader_client, val_aigo):
    assert reader_client.get("/plans/val-aigo/fiches/21/").status_code == 404
    assert reader_client.get("/plans/autre/fiches/1/").status_code == 404


def test_fiche_numbers_are_per_plan(reader_client, reader, val_aigo):
    other = ActionFactory(number=1, title="Fiche d'un autre territoire")
    grant(reader, other.plan)
    assert "Fiche d&#x27;un autre territoire" in fiche(reader_client, other.plan, 1)
    assert "Fiche d&#x27;un autre territoire" not in fiche(reader_client, val_aigo, 1)


def test_step_text_is_escaped(reader_client, reader):
    step = StepFactory(text='<img src=x onerror="alert(1)">')
    grant(reader, step.action.plan)
    html = fiche(reader_client, step.action.plan, step.action.number)
    assert '<img src=x onerror="alert(1)">' not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html


def test_htmx_is_loaded_from_our_own_static_files(reader_client, val_aigo):
    html = fiche(reader_client, val_aigo, 1)
    assert '<script src="/static/django_htmx/htmx-2.min.js' in html
    assert 'hx-headers=\'{"X-CSRFToken": "' in html
