"""Demo practices of the demo network's library: ~8 practices (one failure, one with a
process template), by the member agents. Idempotent: looked up by title."""

from __future__ import annotations

from core import demo
from core.db import db
from network.core.demo import demo_members, entries_to_add
from network.library.models import Practice, PracticeCategory, PracticeOutcome

PRACTICES = [
    {
        "author": "saillans",
        "category": "experience",
        "outcome": "success",
        "title": "Budget participatif des jeunes (11-25 ans)",
        "summary": "Un budget de 20 000 € décidé par et pour les jeunes, avec des "
        "ateliers dans les collèges et un vote sur place.",
        "body": "Nous avons réservé une enveloppe de **20 000 €** aux projets portés par "
        "des jeunes. Les animateurs jeunesse ont accompagné l'écriture des projets, "
        "puis un vote a eu lieu au collège et à la médiathèque.\n\n"
        "- 46 projets déposés, 12 retenus après étude\n- 612 votants, dont 71 % de "
        "moins de 18 ans",
        "lessons": "Les ateliers en classe ont fait toute la différence : sans eux, "
        "les dépôts venaient des mêmes familles. Prévoir l'étude de faisabilité "
        "**avec** les porteurs, pas seulement sur dossier.",
        "tags": ["budget participatif", "jeunes", "vote"],
        "template": {
            "title": "Budget participatif des jeunes",
            "summary": "Dépôt de projets par les 11-25 ans, étude avec les porteurs, "
            "vote et réalisation.",
            "phases": [
                {
                    "kind": "information",
                    "title": "Lancement et ateliers en classe",
                    "description": "",
                    "weeks": 3,
                    "actions": ["comment"],
                },
                {
                    "kind": "contributions",
                    "title": "Dépôt des projets",
                    "description": "",
                    "weeks": 6,
                    "actions": ["propose", "comment"],
                },
                {
                    "kind": "analysis",
                    "title": "Étude avec les porteurs",
                    "description": "",
                    "weeks": 4,
                    "actions": [],
                },
                {
                    "kind": "vote",
                    "title": "Vote",
                    "description": "",
                    "weeks": 2,
                    "actions": ["support"],
                },
                {
                    "kind": "implementation",
                    "title": "Réalisation des projets",
                    "description": "",
                    "weeks": 26,
                    "actions": ["comment"],
                },
            ],
        },
    },
    {
        "author": "mulhouse",
        "category": "experience",
        "outcome": "failure",
        "title": "Conseils de quartier en visioconférence",
        "summary": "Passer les conseils de quartier en ligne pour toucher les actifs : "
        "la participation a chuté de moitié.",
        "body": "Pendant un an, les six conseils de quartier se sont réunis en "
        "visioconférence le soir, pour permettre aux personnes qui travaillent d'y "
        "assister.",
        "lessons": "La participation est passée de 35 à 15 personnes en moyenne, et ce "
        "sont surtout les habitués qui sont restés. Le lien entre voisins, qui fait "
        "la valeur d'un conseil de quartier, ne passe pas par l'écran. Nous sommes "
        "revenus au présentiel, avec une **retransmission** et la possibilité de "
        "poser des questions en ligne.",
        "tags": ["quartiers", "numérique", "réunions"],
    },
    {
        "author": "angers",
        "category": "experience",
        "outcome": "mixed",
        "title": "Tirage au sort d'un panel citoyen sur les mobilités",
        "summary": "Trente habitants tirés au sort ont travaillé quatre samedis sur "
        "le plan de mobilité.",
        "body": "Le panel a été tiré au sort sur les listes électorales puis complété "
        "pour respecter la parité et les quartiers.",
        "lessons": "Les recommandations étaient solides, mais nous avons tardé à y "
        "répondre : huit mois. Les panélistes ont eu le sentiment de ne pas être "
        "écoutés. Fixer **dès le départ** la date de la réponse officielle.",
        "tags": ["tirage au sort", "mobilités", "panel"],
    },
    {
        "author": "mulhouse",
        "category": "tool",
        "title": "Grille de réponse motivée aux propositions",
        "summary": "Un modèle de réponse en cinq rubriques pour répondre à chaque "
        "proposition citoyenne, même quand la réponse est non.",
        "body": "1. Ce que nous avons compris\n2. Ce que nous avons vérifié\n"
        "3. Notre décision\n4. Pourquoi\n5. Et maintenant ?\n\nLa grille est "
        "utilisée par tous les services depuis 2024.",
        "tags": ["réponse officielle", "transparence"],
    },
    {
        "author": "saillans",
        "category": "tool",
        "title": "Kit d'animation d'une réunion publique inclusive",
        "summary": "Disposition de la salle, tours de parole, garde d'enfants, "
        "interprétariat : la check-list de nos réunions.",
        "body": "Le kit contient une check-list imprimable et des conseils pour "
        "faciliter la prise de parole des personnes qui n'osent pas.",
        "tags": ["inclusion", "réunions", "animation"],
    },
    {
        "author": "angers",
        "category": "tool",
        "title": "Méthode du porte-à-porte avant une concertation",
        "summary": "Deux semaines de porte-à-porte pour annoncer une concertation "
        "dans les quartiers prioritaires.",
        "body": "Des binômes agents et habitants relais frappent aux portes, "
        "expliquent la démarche et laissent un flyer en plusieurs langues.",
        "tags": ["aller vers", "quartiers", "inclusion"],
    },
    {
        "author": None,
        "category": "actor",
        "title": "Association Démocratie Ouverte",
        "summary": "Association qui accompagne les collectivités dans l'innovation "
        "démocratique (formations, réseau d'élus, ressources).",
        "body": "Contact par le site de l'association ; le réseau a bénéficié d'une "
        "formation sur les assemblées citoyennes.",
        "tags": ["accompagnement", "formation"],
    },
    {
        "author": "mulhouse",
        "category": "actor",
        "title": "Centres sociaux du territoire",
        "summary": "Des relais précieux pour toucher les familles et les personnes "
        "âgées éloignées du numérique.",
        "body": "Convention annuelle : les centres sociaux accueillent des "
        "permanences et des ateliers de contribution.",
        "tags": ["aller vers", "inclusion", "partenaires"],
    },
]


@demo.register(order=91)
def seed_practices() -> list[str]:
    network, tenants, agents = demo_members()
    if network is None:
        return []
    for entry in entries_to_add(Practice, network, PRACTICES):
        author = agents.get(entry["author"])
        tenant = tenants.get(entry["author"]) if entry["author"] else None
        db.session.add(
            Practice(
                network_id=network.id,
                category=PracticeCategory(entry["category"]),
                title=entry["title"],
                summary=entry["summary"],
                body=entry["body"],
                outcome=PracticeOutcome(entry["outcome"]) if entry.get("outcome") else None,
                lessons=entry.get("lessons", ""),
                tags=entry["tags"],
                tags_text=" ".join(entry["tags"]),
                author_id=author.id if author else None,
                author_tenant_id=tenant.id if tenant else None,
                process_template=entry.get("template"),
            )
        )
    db.session.commit()
    return []  # nothing to print: the network's lines say where to look
