"""Writes tests/assets/plan-coteaux.xlsx: a whole plan typed into the BLANK template, row by row,
the way a territory's coordinator would fill it in Excel (never through the JSON format).

The territory is fictitious: "CC des Coteaux du Girou" and its four communes (Montrabel-du-Girou,
Saint-Aurin-des-Coteaux, Vérac-sur-Girou, Castelfort-du-Girou) do not exist, and neither do
their INSEE codes 31901 to 31904 (Haute-Garonne's real codes stop well below 31900), so the file
never collides with the Val'Aïgo communes (31066, 31073, 31094, 31311, 31288, 31077, 31346,
31583, 31584). The CAF keeps its exact real name, so that the import finds the organisation the
installation already knows instead of creating a second one.

Castelfort-du-Girou pilots nothing and partners nothing: it is tied to fiche 8 through its steps
only (fiche 8 groups its steps by commune), which the browser test's commune filter relies on.

Run from the repository root: `.venv/bin/python tests/assets/make_plan_coteaux.py`.
"""

import io
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = Path(__file__).resolve().parent / "plan-coteaux.xlsx"

CAF = "Caisse d'allocations familiales de la Haute-Garonne"
CC = "Communauté de communes des Coteaux du Girou"
CD = "Conseil départemental de la Haute-Garonne"
RPE = "Relais petite enfance des Coteaux"
CSI = "Centre social intercommunal des Coteaux"
FAMILLES_RURALES = "Familles rurales du Girou"
MONTRABEL, SAINT_AURIN, VERAC, CASTELFORT = (
    "Montrabel-du-Girou",
    "Saint-Aurin-des-Coteaux",
    "Vérac-sur-Girou",
    "Castelfort-du-Girou",
)

PLAN = {
    "Identifiant": "coteaux-girou",
    "Titre": "Convention territoriale globale 2024-2028",
    "Territoire": "CC des Coteaux du Girou",
    "Année de début": 2024,
    "Année de fin": 2028,
    "Nom du premier niveau": "Enjeu",
    "Signataires": f"{CAF}; {CC}",
}

COMMUNES = [
    [MONTRABEL, "31901"],
    [SAINT_AURIN, "31902"],
    [VERAC, "31903"],
    [CASTELFORT, "31904"],
]

# Nom, Sigle, Type, Code INSEE, Rattachée à
ORGANISATIONS = [
    [CC, "CCCG", "EPCI", None, None],
    [CAF, "CAF", "CAF", None, None],
    [CD, "CD31", "Département", None, None],
    [RPE, "RPE", "Autre", None, CC],
    [CSI, "CSI", "Autre", None, CC],
    [FAMILLES_RURALES, None, "Association", None, None],
    ["Éducation nationale", None, "État", None, None],
]

# Numéro, Intitulé, Thème du diagnostic
AXES = [
    [1, "Accompagner les parents et soutenir la fonction parentale", "Parentalité"],
    [2, "Développer une offre d'accueil du jeune enfant adaptée aux besoins des familles", "Petite enfance"],
    [3, "Structurer une offre enfance-jeunesse de proximité dans les quatre communes", "Enfance et jeunesse"],
    [4, "Faciliter l'accès aux droits et l'inclusion des familles fragilisées", "Accès aux droits"],
]

# Axe, Nature, Constat
DIAGNOSTIC = [
    [1, "Force", "Un réseau associatif actif, qui organise déjà des cafés des parents à Montrabel-du-Girou."],
    [1, "Force", "Des écoles volontaires pour accueillir des temps d'échange avec les familles."],
    [1, "Point de vigilance", "Aucun lieu d'accueil enfants-parents sur le territoire."],
    [1, "Point de vigilance", "Des familles isolées dans les hameaux, sans transport en commun."],
    [2, "Force", "Un relais petite enfance reconnu par les assistantes maternelles."],
    [2, "Force", "Une crèche intercommunale bien fréquentée à Saint-Aurin-des-Coteaux."],
    [2, "Point de vigilance", "Une assistante maternelle sur cinq partira à la retraite d'ici 2028."],
    [2, "Point de vigilance", "Peu de solutions pour les parents qui travaillent en horaires décalés."],
    [3, "Force", "Trois accueils de loisirs déclarés, dont un ouvert l'été."],
    [3, "Point de vigilance", "Des tarifs et des horaires différents d'une commune à l'autre."],
    [3, "Point de vigilance", "Presque rien pour les 11-17 ans en dehors du collège."],
    [4, "Force", "Un espace France services à moins de vingt minutes de chaque commune."],
    [4, "Point de vigilance", "Un non-recours aux droits marqué chez les familles monoparentales."],
    [4, "Point de vigilance", "Une couverture numérique inégale dans les hameaux."],
]

# Numéro, Axe, Intitulé (synoptique), Nom de l'action (fiche), Pilotage, Pilotes, Statut, Avancement
FICHES = [
    [
        1,
        1,
        "Créer un lieu d'accueil enfants-parents itinérant",
        "Ouvrir un lieu d'accueil enfants-parents (LAEP) itinérant dans les quatre communes",
        "CC des Coteaux du Girou, service petite enfance",
        CC,
        "En cours",
        40,
    ],
    [
        2,
        1,
        "Proposer un cycle de rencontres pour les parents",
        "Organiser chaque année un cycle de conférences-débats et d'ateliers pour les parents",
        "Centre social intercommunal",
        CSI,
        "À venir",
        0,
    ],
    [
        3,
        1,
        "Soutenir les initiatives parentales des associations",
        "Soutenir et faire connaître les initiatives parentales portées par les associations locales",
        "CAF et CC des Coteaux du Girou",
        f"{CAF}; {CC}",
        "En cours",
        20,
    ],
    [
        4,
        2,
        "Ouvrir une micro-crèche à Vérac-sur-Girou",
        "Créer une micro-crèche de dix places à Vérac-sur-Girou",
        "Commune de Vérac-sur-Girou",
        VERAC,
        "En cours",
        60,
    ],
    [
        5,
        2,
        "Renforcer le relais petite enfance",
        "Renforcer le relais petite enfance et accompagner l'installation des assistantes maternelles",
        "Relais petite enfance",
        RPE,
        "En cours",
        50,
    ],
    [
        6,
        2,
        "Adapter l'accueil aux horaires décalés",
        "Étudier un accueil du jeune enfant adapté aux parents qui travaillent en horaires décalés",
        "CC des Coteaux du Girou",
        CC,
        "À venir",
        0,
    ],
    [
        7,
        3,
        "Harmoniser les accueils de loisirs",
        "Harmoniser les tarifs et les horaires des accueils de loisirs du mercredi et des vacances",
        "CC des Coteaux du Girou, service enfance-jeunesse",
        CC,
        "En cours",
        30,
    ],
    [
        8,
        3,
        "Développer l'offre jeunesse dans chaque commune",
        "Développer une offre jeunesse de proximité, commune par commune",
        "CC des Coteaux du Girou, avec les communes",
        CC,
        "En cours",
        25,
    ],
    [
        9,
        3,
        "Créer un conseil intercommunal des jeunes",
        "Créer un conseil intercommunal des jeunes de 11 à 17 ans",
        "CC des Coteaux du Girou",
        CC,
        "À venir",
        0,
    ],
    [
        10,
        4,
        "Tenir des permanences d'accès aux droits",
        "Tenir des permanences d'accès aux droits dans les mairies",
        "CAF de la Haute-Garonne",
        CAF,
        "En cours",
        70,
    ],
    [
        11,
        4,
        "Accompagner les démarches en ligne",
        "Accompagner les familles dans leurs démarches en ligne",
        "Centre social intercommunal",
        CSI,
        "Réalisée",
        100,
    ],
    [
        12,
        4,
        "Repérer et accompagner les familles monoparentales",
        "Mieux repérer et accompagner les familles monoparentales",
        "CAF et Conseil départemental",
        f"{CAF}; {CD}",
        "En pause",
        10,
    ],
]

# Fiche, Niveau, Étape, Commune, Réalisée
ETAPES = [
    [1, 1, "Trouver les salles d'accueil dans chaque commune", None, "oui"],
    [1, 1, "Recruter et former deux accueillantes", None, "oui"],
    [1, 1, "Ouvrir les premières séances", None, "non"],
    [1, 2, "Séances du mardi matin à Montrabel-du-Girou", MONTRABEL, "oui"],
    [1, 2, "Séances du jeudi matin à Vérac-sur-Girou", VERAC, "non"],
    [2, 1, "Recueillir les attentes des parents par questionnaire", None, "non"],
    [2, 1, "Bâtir le programme de l'année avec les écoles", None, "non"],
    [3, 1, "Recenser les initiatives existantes", None, "oui"],
    [3, 1, "Lancer un appel à projets annuel", None, "non"],
    [4, 1, "Choisir le gestionnaire", VERAC, "oui"],
    [4, 1, "Obtenir l'avis de la PMI", VERAC, "non"],
    [4, 1, "Réaliser les travaux du bâtiment", VERAC, "non"],
    [5, 1, "Organiser une réunion d'information pour les futures assistantes maternelles", None, "oui"],
    [5, 1, "Ouvrir une permanence du relais une fois par mois dans chaque commune", None, "non"],
    [6, 1, "Mener une enquête auprès des employeurs du territoire", None, "non"],
    [7, 1, "Comparer les tarifs et les horaires des trois accueils de loisirs", None, "oui"],
    [7, 1, "Adopter une grille tarifaire commune", None, "non"],
    # Fiche 8 groups its steps by commune: a level-1 step per commune, its steps below it.
    [8, 1, MONTRABEL, MONTRABEL, "non"],
    [8, 2, "Ouvrir un espace jeunes le mercredi après-midi", MONTRABEL, "oui"],
    [8, 2, "Recruter un animateur à mi-temps", MONTRABEL, "non"],
    [8, 1, CASTELFORT, CASTELFORT, "non"],
    [8, 2, "Aménager l'ancienne école en local jeunes", CASTELFORT, "non"],
    [8, 2, "Organiser des sorties pendant les vacances scolaires", CASTELFORT, "non"],
    [8, 1, SAINT_AURIN, SAINT_AURIN, "non"],
    [8, 2, "Mettre en place une navette vers l'accueil de loisirs", SAINT_AURIN, "non"],
    [9, 1, "Présenter le projet aux conseils municipaux", None, "non"],
    [9, 1, "Organiser l'élection des jeunes conseillers", None, "non"],
    [10, 1, "Fixer le calendrier des permanences avec les mairies", None, "oui"],
    [10, 1, "Former les secrétaires de mairie à l'orientation des familles", None, "non"],
    [11, 1, "Recruter un conseiller numérique", None, "oui"],
    [11, 1, "Ouvrir des ateliers collectifs d'initiation", None, "oui"],
    [12, 1, "Croiser les données de la CAF et du Département", None, "non"],
]

# Fiche, Partenaire, Rôle, Organisation
PARTENAIRES = [
    [1, "CAF", "Financement (prestation de service LAEP)", CAF],
    [1, "PMI", "Appui des puéricultrices", CD],
    [2, "Écoles du territoire", "Diffusion de l'information aux familles", "Éducation nationale"],
    [3, "Familles rurales du Girou", "Porteur d'initiatives", FAMILLES_RURALES],
    [4, "CAF", "Aide à l'investissement", CAF],
    [4, "PMI", "Agrément et suivi", CD],
    [5, "Assistantes maternelles", "Participation aux temps collectifs", None],
    [7, "Communes", "Mise à disposition des locaux", None],
    [8, "CAF", "Financement des postes d'animation", CAF],
    [9, "Collège du secteur", "Relais auprès des élèves", "Éducation nationale"],
    [10, "Secrétaires de mairie", "Premier accueil des familles", None],
    [11, "Familles rurales du Girou", "Animation des ateliers", FAMILLES_RURALES],
    [12, "Département", "Travailleurs sociaux de secteur", CD],
]

# Fiche, Condition
CONDITIONS = [
    [1, "Disposer d'une salle adaptée aux tout-petits dans chaque commune."],
    [4, "Obtenir l'agrément de la PMI avant l'ouverture."],
    [4, "Trouver un gestionnaire avant la fin des travaux."],
    [7, "Un accord des conseils municipaux sur une grille commune."],
    [8, "Un animateur jeunesse recruté au niveau intercommunal."],
    [12, "Une convention d'échange de données entre la CAF et le Département."],
]

# Fiche, Période, Ce qui est prévu (Début and Fin left empty, as the Lisez-moi advises)
CALENDRIER = [
    [1, "Début 2025", "Recrutement des accueillantes"],
    [1, "Rentrée 2025", "Premières séances à Montrabel-du-Girou"],
    [2, "2026", "Premier cycle de rencontres"],
    [3, "Au fil de l'eau", "Appel à projets ouvert toute l'année"],
    [4, "2026", "Travaux et ouverture de la micro-crèche"],
    [5, "Rentrée 2025", "Permanences mensuelles dans les communes"],
    [6, "2027", "Enquête et scénarios"],
    [7, "Rentrée 2025", "Nouvelle grille tarifaire"],
    [8, "2026", "Ouverture des espaces jeunes"],
    [9, "Fin 2026", "Première élection"],
    [10, "Début 2025", "Premières permanences"],
    [11, "2024", "Ateliers numériques"],
    [12, "Au fil de l'eau", None],
]

# Fiche, Indicateur, Unité, Valeur de référence, Cible, Année, Valeur, Commentaire
INDICATEURS = [
    [1, "Familles accueillies au LAEP", "familles", 0, 60, 2024, 0, "Pas encore ouvert"],
    [1, "Familles accueillies au LAEP", "familles", 0, 60, 2025, 18, "Ouverture en septembre"],
    [5, "Assistantes maternelles en activité", "personnes", 48, 55, 2024, 47, None],
    [5, "Assistantes maternelles en activité", "personnes", 48, 55, 2025, 50, "Trois installations"],
]

# Fiche, Date (typed as text), Nature, Auteur, Note
NOTES = [
    [
        4,
        "12/03/2025",
        "Réalisation",
        "Service petite enfance",
        "Le gestionnaire est choisi : une association déjà présente sur le territoire.",
    ],
    [
        12,
        "04/06/2025",
        "Difficulté",
        "Coordinatrice CTG",
        "L'échange de données attend la signature de la convention : action suspendue.",
    ],
]


def fill(workbook):
    plan = workbook["Plan"]
    rows = {str(cell.value).rstrip(" *"): cell.row for (cell,) in plan.iter_rows(min_row=2, max_col=1)}
    for label, value in PLAN.items():
        plan.cell(row=rows[label], column=2, value=value)
    for title, rows in [
        ("Communes", COMMUNES),
        ("Organisations", ORGANISATIONS),
        ("Axes", AXES),
        ("Diagnostic", DIAGNOSTIC),
        ("Fiches", FICHES),
        ("Étapes", ETAPES),
        ("Partenaires", PARTENAIRES),
        ("Conditions", CONDITIONS),
        ("Calendrier", CALENDRIER),
        ("Indicateurs", INDICATEURS),
        ("Notes", NOTES),
    ]:
        for row in rows:
            workbook[title].append(row)


def main():
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ctg.settings")
    import django

    django.setup()
    from openpyxl import load_workbook

    from actions.plan_io.spreadsheet import workbook_from_data

    workbook = load_workbook(io.BytesIO(workbook_from_data()))
    fill(workbook)
    workbook.save(OUTPUT)
    print(f"Écrit : {OUTPUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
