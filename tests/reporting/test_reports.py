"""The PDF reports, read back as text (pdftotext, tests/pdf.py) as a person reading them would."""

import datetime
import re

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from actions.models import Action, Indicator, Note, NoteKind, Status, Step
from reporting.models import Decision, DecisionStatus, Instance, Meeting
from tests.pdf import pdf_pages


def report(tmp_path, *args, **options):
    out = tmp_path / "rapport.pdf"
    call_command("report", *args, output=str(out), **options)
    return pdf_pages(out)


@pytest.fixture
def a_year_on(val_aigo):
    """Val'Aïgo with a year of follow-up: statuses, notes of each kind, an indicator."""
    Action.objects.filter(plan=val_aigo, number=1).update(status=Status.DONE, progress=100)
    Action.objects.filter(plan=val_aigo, number=2).update(status=Status.IN_PROGRESS, progress=60)
    action = val_aigo.actions.get(number=2)
    Note.objects.create(
        action=action,
        date=datetime.date(2025, 3, 12),
        kind=NoteKind.ACHIEVEMENT,
        text="Bilan partagé avec les élus.",
    )
    Note.objects.create(
        action=action,
        date=datetime.date(2025, 6, 2),
        kind=NoteKind.DIFFICULTY,
        text="Peu de familles touchées à Bondigoux.",
    )
    Note.objects.create(
        action=action,
        date=datetime.date(2025, 11, 4),
        kind=NoteKind.OUTLOOK,
        text="Ouvrir un second lieu en 2026.",
    )
    Note.objects.create(
        action=action, date=datetime.date(2024, 5, 1), kind=NoteKind.ACHIEVEMENT, text="Note de 2024."
    )
    indicator = Indicator.objects.create(
        action=action, name="Familles reçues", unit="familles", baseline=12, target=40
    )
    indicator.values.create(year=2025, value=27, comment="Hausse après la campagne d'affichage")
    indicator.values.create(year=2024, value=15)
    return val_aigo


def test_fiche_pdf(tmp_path, a_year_on):
    Step.objects.filter(action__plan=a_year_on, text="Mettre en place la PS jeunes").update(done=True)
    (page,) = report(tmp_path, "fiche", "val-aigo", fiche=12)
    assert "Action 12 : Accompagner le renforcement de l'offre jeunesse" in page
    assert "Statut : À venir" in page
    assert "Villemur-sur-Tarn" in page and "Mettre en place la PS jeunes (réalisée)" in page
    assert "Selon les communes" in page
    assert "page 1 / 1" in page
    assert "CC de Val'Aïgo" in page


def test_dossier_copil(tmp_path, reader_client, a_year_on):
    Meeting.objects.create(plan=a_year_on, instance=Instance.COPIL, date=datetime.date(2025, 5, 1))
    upcoming = Meeting.objects.create(
        plan=a_year_on, instance=Instance.COPIL, date=datetime.date(2099, 1, 15)
    )
    Decision.objects.create(
        meeting=upcoming, text="Valider un second lieu d'écoute", status=DecisionStatus.TO_TAKE
    )
    # The 2024 note was written then: before the last COPIL, it is not news.
    old = Note.objects.get(text="Note de 2024.")
    old.history.update(history_date=datetime.datetime(2024, 5, 1, 12, tzinfo=datetime.UTC))
    text = report(tmp_path, "copil", "val-aigo")
    total = len(text)
    assert "Dossier COPIL" in text[0] and "COPIL du 15/01/2099" in text[0]
    assert all(f"page {n} / {total}" in page for n, page in enumerate(text, start=1))
    # The table of contents gives the page of each fiche, and that page is the fiche (pdftotext
    # spaces the dot leaders: ". . . 12").
    start = next(i for i, page in enumerate(text) if page.startswith("Sommaire"))
    toc = " ".join(text[start : start + 2])
    page_of = {}
    for number in (1, 2, 12, 20):
        found = re.search(rf"Action {number} : .+?(?:\. ?){{3,}}(\d+)", toc)
        assert found, number
        page_of[number] = int(found.group(1))
        assert f"Action {number} :" in text[page_of[number] - 1]
    fiche_2 = text[page_of[2] - 1]
    assert "Statut : En cours" in fiche_2 and "Avancement : 60 %" in fiche_2
    # Notes since the last COPIL (1 May 2025) only.
    assert "Peu de familles touchées à Bondigoux." in fiche_2 and "Note de 2024." not in fiche_2
    assert "Familles reçues (familles)" in fiche_2 and "12" in fiche_2 and "40" in fiche_2
    # The two-minute read comes first: the decisions to take are on the page after the cover.
    assert "L'essentiel" in text[1] and "Valider un second lieu d'écoute" in text[1]

    # The PDF and the dashboard agree (the same dossier read again rather than made twice).
    html = reader_client.get(reverse("dashboard", args=["val-aigo"])).text
    dashboard = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    synthesis = text[1]
    for label in ["Avancement global", "Fiches-actions", "En cours", "Réalisée", "En retard"]:
        on_screen = re.search(rf"{label} (\d+)", dashboard).group(1)
        on_paper = re.search(rf"{label} (\d+)", synthesis).group(1)
        assert on_screen == on_paper, label


def test_bilan_caf(tmp_path, a_year_on):
    text = " ".join(report(tmp_path, "bilan", "val-aigo", year=2025))
    assert "Bilan annuel pour la CAF 2025" in text
    fiche = text[text.index("Action 2 : Poursuivre") :]
    fiche = fiche[: fiche.index("Action 3 :")]
    assert "Réalisations : Bilan partagé avec les élus. (12/03/2025)" in fiche
    assert "Difficultés : Peu de familles touchées à Bondigoux. (02/06/2025)" in fiche
    assert "Perspectives : Ouvrir un second lieu en 2026. (04/11/2025)" in fiche
    assert "Note de 2024." not in fiche
    assert "Indicateur Valeur de référence Cible Réalisé 2025 Commentaire" in fiche
    assert "Familles reçues (familles) 12 40 27 Hausse après la campagne d'affichage" in fiche
    assert "Partenaires : CAF, CD31, Intervenant (EPE / psychologue)" in fiche


def test_user_text_is_escaped_in_pdf(tmp_path, val_aigo):
    Step.objects.filter(action__plan=val_aigo, action__number=1, position=0).update(
        text="<b>gras</b> & <script>x</script>"
    )
    (page,) = report(tmp_path, "fiche", "val-aigo", fiche=1)
    assert "<b>gras</b> & <script>x</script>" in page


@pytest.mark.parametrize(
    ("args", "options", "message"),
    [
        (["fiche", "val-aigo"], {}, "Indiquez la fiche avec --fiche N."),
        (["fiche", "val-aigo"], {"fiche": 99}, "Le plan « val-aigo » n'a pas de fiche-action n° 99."),
        (["bilan", "val-aigo"], {"year": 2031}, "L'année 2031 est hors de la période du plan (2023-2027)."),
        (["copil", "inconnu"], {}, "Aucun plan « inconnu »."),
    ],
)
def test_report_command_refuses_bad_requests(tmp_path, val_aigo, args, options, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        report(tmp_path, *args, **options)
    assert not (tmp_path / "rapport.pdf").exists()


def test_pdf_renderer_reads_nothing_outside_static():
    from reporting.pdf_fetcher import StaticOnlyFetcher

    fetcher = StaticOnlyFetcher()
    for url in ["file:///etc/passwd", "http://example.org/x.png", "https://example.org/font.woff"]:
        with pytest.raises(ValueError, match="refusée"):
            fetcher.fetch(url)
    from reporting.pdf import STATIC

    response = fetcher.fetch((STATIC / "css" / "report.css").as_uri())
    assert b"@page" in response.read()
