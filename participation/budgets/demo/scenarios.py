"""The demo budgets as data: each collectivité's budget, its calendar relative to today,
its twelve projects (analysed already), the census list and the follow-up milestones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from participation.budgets.models import ProjectStatus, VotingRule

OK, NO = ProjectStatus.FEASIBLE, ProjectStatus.UNFEASIBLE


@dataclass(frozen=True)
class DemoProject:
    title: str
    description: str
    cost: int
    status: ProjectStatus = OK
    estimated: int | None = None
    reason: str | None = None
    neighbourhood: str | None = None


MULHOUSE = [
    DemoProject(
        "Des bancs au parc Salvator",
        (
            "Installer une quinzaine de bancs et trois tables de pique-nique le long des allées "
            "du parc Salvator, à l'ombre des grands arbres : les personnes âgées et les familles "
            "manquent de places assises."
        ),
        38_000,
        estimated=42_000,
        reason="Bancs en bois labellisé, posés par les jardiniers de la Ville au printemps.",
    ),
    DemoProject(
        "Pistes cyclables rue du Sauvage",
        (
            "Tracer une bande cyclable protégée dans la rue du Sauvage entre la place de la "
            "Réunion et la porte Jeune, avec des arceaux de stationnement aux deux extrémités."
        ),
        180_000,
        estimated=165_000,
        reason="Faisable en conservant la circulation des livraisons le matin.",
    ),
    DemoProject(
        "Une fontaine à boire place de la Réunion",
        (
            "Une fontaine d'eau potable accessible aux fauteuils roulants sur la place de la "
            "Réunion, pour les touristes, les habitants et les jours de canicule."
        ),
        25_000,
        estimated=28_000,
        reason="Raccordement possible au réseau existant sous la place.",
    ),
    DemoProject(
        "Un terrain multisport à Bourtzwiller",
        (
            "Un city-stade ouvert à tous près de l'école Matisse, avec un revêtement silencieux "
            "et un éclairage éteint à 22 h."
        ),
        120_000,
        estimated=135_000,
        reason="Le terrain communal derrière l'école convient ; éclairage LED programmable.",
        neighbourhood="Bourtzwiller",
    ),
    DemoProject(
        "Des arbres fruitiers dans les cours d'école",
        (
            "Planter pommiers, poiriers et petits fruits dans cinq cours d'école, avec les élèves "
            "et leurs enseignants."
        ),
        30_000,
        estimated=32_000,
        reason="Cinq écoles volontaires identifiées avec le service Éducation.",
    ),
    DemoProject(
        "Une boîte à livres dans chaque quartier",
        (
            "Des boîtes à livres fabriquées par un chantier d'insertion, une par quartier, "
            "entretenues par des habitants volontaires."
        ),
        12_000,
        estimated=14_000,
        reason="Fabrication confiée à un chantier d'insertion mulhousien.",
    ),
    DemoProject(
        "Éclairer le passage sous la voie ferrée à Dornach",
        (
            "Le passage piéton sous la voie ferrée est sombre et inquiétant le soir : un "
            "éclairage et une fresque le rendraient plus sûr."
        ),
        45_000,
        estimated=52_000,
        reason="Accord de SNCF Réseau obtenu pour les travaux dans le passage.",
        neighbourhood="Dornach",
    ),
    DemoProject(
        "Des composteurs partagés aux Coteaux",
        (
            "Trois sites de compostage collectif au pied des immeubles des Coteaux, avec une "
            "formation des habitants référents."
        ),
        9_000,
        estimated=11_000,
        reason="Mis en place avec m2A, qui fournit les bacs.",
        neighbourhood="Coteaux",
    ),
    DemoProject(
        "Une fresque sur le mur de la gare",
        (
            "Confier le long mur gris de la gare à des artistes du territoire pour une grande "
            "fresque colorée."
        ),
        35_000,
        estimated=40_000,
        reason="Mur appartenant à la Ville ; appel à artistes prévu.",
    ),
    DemoProject(
        "Des toilettes publiques au parc de la Citadelle",
        (
            "Des toilettes publiques gratuites, accessibles et entretenues, ouvertes en journée "
            "au parc de la Citadelle."
        ),
        85_000,
        estimated=95_000,
        reason="Modèle autonettoyant retenu, raccordement prévu.",
    ),
    DemoProject(
        "Une piscine découverte sur l'Ill",
        "Une piscine flottante sur l'Ill au centre-ville, ouverte tout l'été.",
        2_500_000,
        status=NO,
        reason=(
            "Le coût dépasse de loin l'enveloppe et la qualité de l'eau de l'Ill ne permet pas la "
            "baignade."
        ),
    ),
    DemoProject(
        "Un parking gratuit au centre historique",
        "Rendre gratuit le parking souterrain de la place de la Concorde.",
        400_000,
        status=NO,
        reason=(
            "Le budget participatif finance des investissements, pas des dépenses de "
            "fonctionnement comme la gratuité d'un parking."
        ),
    ),
]

ANGERS = [
    DemoProject(
        "Un jardin partagé à Monplaisir",
        (
            "Transformer la pelouse inutilisée de la rue de Normandie en jardin partagé, avec des "
            "bacs surélevés accessibles."
        ),
        40_000,
        estimated=38_000,
        reason="Terrain municipal disponible ; association de jardiniers partenaire.",
        neighbourhood="Monplaisir",
    ),
    DemoProject(
        "Des bancs et de l'ombre place Ney",
        "Des bancs et des arbres d'ombrage place Ney, très minérale et brûlante l'été.",
        55_000,
        estimated=60_000,
        reason="Plantation possible en pleine terre sur la moitié nord.",
        neighbourhood="Monplaisir",
    ),
    DemoProject(
        "Une aire de jeux inclusive à Belle-Beille",
        (
            "Une aire de jeux utilisable par les enfants en situation de handicap, près du lac de "
            "Maine."
        ),
        90_000,
        estimated=95_000,
        reason="Modèle validé avec l'association des parents d'élèves.",
        neighbourhood="Belle-Beille",
    ),
    DemoProject(
        "Un skatepark à Belle-Beille",
        (
            "Un petit skatepark en béton pour les jeunes du quartier, qui n'ont rien de ce genre "
            "à proximité."
        ),
        120_000,
        estimated=140_000,
        reason="Implantation possible près du gymnase.",
        neighbourhood="Belle-Beille",
    ),
    DemoProject(
        "Des fresques dans la Doutre",
        "Des fresques sur les murs pignons de la Doutre, réalisées avec les écoles du quartier.",
        25_000,
        estimated=27_000,
        reason="Murs identifiés avec l'architecte des bâtiments de France.",
        neighbourhood="La Doutre",
    ),
    DemoProject(
        "Des arceaux vélo dans la Doutre",
        "Cinquante arceaux de stationnement vélo répartis dans les rues commerçantes de la Doutre.",
        15_000,
        estimated=16_000,
        reason="Emplacements validés avec les commerçants.",
        neighbourhood="La Doutre",
    ),
    DemoProject(
        "Un verger aux Justices",
        (
            "Planter un verger de trente arbres fruitiers en libre cueillette dans le parc des "
            "Justices."
        ),
        20_000,
        estimated=22_000,
        reason="Parc municipal, entretien par les jardiniers de la Ville.",
        neighbourhood="Justices",
    ),
    DemoProject(
        "Une boîte à livres géante aux Justices",
        "Une cabane-bibliothèque en libre-service près du centre commercial des Justices.",
        10_000,
        estimated=12_000,
        reason="Fabrication par un lycée professionnel.",
        neighbourhood="Justices",
    ),
    DemoProject(
        "Des toilettes publiques au centre-ville",
        "Des toilettes publiques accessibles et gratuites près du jardin du Mail.",
        70_000,
        estimated=80_000,
        reason="Raccordement possible rue de la Roë.",
        neighbourhood="Centre-ville",
    ),
    DemoProject(
        "Un parcours sportif le long de la Maine",
        "Des agrès de sport en accès libre le long des bords de Maine.",
        45_000,
        estimated=48_000,
        reason="Tracé validé avec le service des sports.",
        neighbourhood="Centre-ville",
    ),
    DemoProject(
        "Une patinoire en plein air",
        "Une patinoire éphémère chaque hiver place du Ralliement.",
        300_000,
        status=NO,
        reason="Dépense de fonctionnement annuelle, hors du champ du budget participatif.",
        neighbourhood="Centre-ville",
    ),
    DemoProject(
        "Un téléphérique vers Belle-Beille",
        "Un téléphérique urbain reliant la gare à Belle-Beille.",
        30_000_000,
        status=NO,
        reason="Le coût dépasse très largement l'enveloppe du quartier.",
        neighbourhood="Belle-Beille",
    ),
]
ANGERS_ENVELOPES = {
    "Monplaisir": 100_000,
    "Belle-Beille": 150_000,
    "La Doutre": 50_000,
    "Justices": 40_000,
    "Centre-ville": 120_000,
}

SAILLANS = [
    DemoProject(
        "Des bancs sur la place du Prieuré",
        "Trois bancs en bois local sur la place du Prieuré, pour s'asseoir à l'ombre du platane.",
        4_000,
        estimated=4_500,
        reason="Bois de la forêt communale, fabrication par un menuisier du village.",
    ),
    DemoProject(
        "Un abri à vélos à la gare",
        "Un abri couvert et sécurisé pour une vingtaine de vélos à la gare de Saillans.",
        12_000,
        estimated=13_000,
        reason="Terrain SNCF mis à disposition.",
    ),
    DemoProject(
        "Une aire de pique-nique au bord de la Drôme",
        "Des tables et des poubelles de tri près de la plage de la Drôme.",
        6_000,
        estimated=6_500,
        reason="Hors zone inondable, accord du syndicat de rivière.",
    ),
    DemoProject(
        "Une boîte à livres à la mairie",
        "Une boîte à livres sous le porche de la mairie.",
        1_500,
        estimated=1_500,
        reason="Fabrication par les jeunes du centre de loisirs.",
    ),
    DemoProject(
        "Des nichoirs à martinets",
        "Quarante nichoirs à martinets sur les façades des bâtiments communaux.",
        3_000,
        estimated=3_200,
        reason="Avec la LPO Drôme.",
    ),
    DemoProject(
        "Un composteur au jardin des Chapelains",
        "Un composteur collectif pour les habitants des Chapelains.",
        1_200,
        estimated=1_200,
        reason="Bacs fournis par la communauté de communes.",
    ),
    DemoProject(
        "Réparer le lavoir de la Tour",
        "Restaurer le lavoir de la Tour, dont le bassin fuit.",
        15_000,
        estimated=18_000,
        reason="Travaux simples de maçonnerie.",
    ),
    DemoProject(
        "Une fresque sur le mur de l'école",
        "Une fresque peinte avec les enfants de l'école sur le mur de la cour.",
        3_500,
        estimated=3_500,
        reason="Artiste du village volontaire.",
    ),
    DemoProject(
        "Un point d'eau au cimetière",
        "Un robinet près de l'entrée haute du cimetière pour arroser les tombes.",
        2_500,
        estimated=2_800,
        reason="Raccordement court au réseau.",
    ),
    DemoProject(
        "Des jeux pour les petits au parc",
        "Une balançoire et un toboggan pour les moins de six ans au parc municipal.",
        9_000,
        estimated=10_000,
        reason="Sol amortissant compris.",
    ),
    DemoProject(
        "Une navette vers Crest tous les jours",
        "Un minibus communal vers Crest matin et soir.",
        60_000,
        status=NO,
        reason="Dépense de fonctionnement ; le transport relève de la Région.",
    ),
    DemoProject(
        "Un pont piéton sur la Drôme",
        "Une passerelle piétonne entre le village et la rive gauche.",
        400_000,
        status=NO,
        reason="Le coût dépasse l'enveloppe ; étude à mener avec le Département.",
    ),
]
SAILLANS_CENSUS = [
    ("Élise Roux", date(1986, 4, 12)),
    ("Jean-Pierre Arnaud", date(1952, 9, 3)),
    ("Maëlle Fabre", date(2001, 1, 27)),
    ("Thomas Bernard", date(1978, 6, 30)),
    ("Hélène Chabert", date(1969, 11, 8)),
    ("Louis Garnier", date(1994, 2, 14)),
    ("Inès Morel", date(1990, 7, 21)),
    ("Pierre Vial", date(1945, 3, 2)),
]


@dataclass(frozen=True)
class DemoBudget:
    slug: str
    title: str
    description: str
    projects: list[DemoProject]
    # Days from today: submission start, submission end, vote start, vote end, works start.
    days: tuple[int, int, int, int, int]
    rule: VotingRule = VotingRule.KNAPSACK
    envelope: int = 0
    envelopes: dict[str, int] | None = None
    vote_per_neighbourhood: bool = False
    min_choices: int | None = None
    max_choices: int | None = None
    minimum_age: int | None = None
    require_census: bool = False
    eligible_population: int | None = None
    paper_ballots: int = 0
    process_title: str | None = None


BUDGETS = [
    DemoBudget(
        "mulhouse",
        "Budget participatif 2026 : à vous de choisir !",
        "Mulhouse consacre **500 000 €** d'investissement à des projets proposés par les "
        "habitantes et habitants. Les services ont analysé chaque projet ; c'est maintenant "
        "à vous de voter, en ligne ou dans l'une des mairies annexes.",
        MULHOUSE,
        (-70, -40, -5, 16, 40),
        envelope=500_000,
        minimum_age=16,
        eligible_population=88_000,
        paper_ballots=24,
    ),
    DemoBudget(
        "angers",
        "Budget des quartiers 2025",
        "Chaque quartier a voté pour ses projets, dans la limite de son enveloppe. Suivez ici "
        "leur réalisation.",
        ANGERS,
        (-260, -200, -150, -120, -90),
        envelopes=ANGERS_ENVELOPES,
        vote_per_neighbourhood=True,
        minimum_age=11,
        eligible_population=150_000,
        paper_ballots=180,
        process_title="Budget des quartiers",
    ),
    DemoBudget(
        "saillans",
        "Budget participatif du village",
        "30 000 € pour des projets simples et utiles à tout le village. Chaque habitante et "
        "chaque habitant choisit de un à trois projets.",
        SAILLANS,
        (-45, -15, 5, 25, 60),
        rule=VotingRule.APPROVAL,
        envelope=30_000,
        min_choices=1,
        max_choices=3,
        require_census=True,
    ),
]


FOLLOW_UP = [
    ("Études et commande", 20, True),
    ("Travaux", 60, False),
    ("Inauguration", 100, False),
]
