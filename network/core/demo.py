"""Demo network: the demo collectivités as members, a coordinator, member agents and an
evaluator (published TOTP secrets, demo only), ~8 practices (one failure, one with a
process template) and forum threads. Idempotent: looked up by slug, title and e-mail."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from core import demo
from core.db import db
from core.platform.demo import DEMO_PASSWORD
from core.platform.models import PlatformUser
from core.platform.services import (
    create_platform_user,
    enable_totp_with_secret,
    get_platform_user_by_email,
)
from network.core.models import (
    MembershipStatus,
    Network,
    NetworkMembership,
    NetworkRole,
    NetworkRoleKind,
)
from tenants.models import Tenant

NETWORK_SLUG = "territoires-participatifs"
NETWORK_NAME = "Réseau des territoires participatifs"
COORDINATOR_EMAIL = "coordination@pnyx.localhost"  # created by core/platform/demo.py
MEMBER_ACCOUNTS = [
    # tenant slug, e-mail, display name, TOTP secret (base32)
    (
        "mulhouse",
        "mulhouse@reseau.pnyx.localhost",
        "Léa Schmitt (Mulhouse)",
        "PNYXDEMOAGENTMULHOUSEPNYXDEMOAGE",
    ),
    (
        "saillans",
        "saillans@reseau.pnyx.localhost",
        "Hugo Martin (Saillans)",
        "PNYXDEMOAGENTSAILLANSPNYXDEMOAGE",
    ),
    (
        "angers",
        "angers@reseau.pnyx.localhost",
        "Nadia Benali (Angers)",
        "PNYXDEMOAGENTANGERSPNYXDEMOAGENT",
    ),
]
EVALUATOR = (
    "evaluation@reseau.pnyx.localhost",
    "Paul Evrard (évaluation)",
    "PNYXDEMOEVALUATIONPNYXDEMOEVALUA",
)

DESCRIPTION = """Le réseau réunit des collectivités de toutes tailles qui veulent **faire
mieux participer leurs habitants** et apprendre les unes des autres : une bibliothèque de
pratiques (réussites *et* échecs), des engagements suivis, un autodiagnostic annuel et des
indicateurs comparables entre pairs.

Il se retrouve deux fois par an et échange toute l'année sur le forum."""

CHARTER = """1. **Rendre compte** : toute contribution citoyenne reçoit une réponse motivée.
2. **Inclure** : aller vers les publics qui ne viennent pas d'eux-mêmes.
3. **Partager** : documenter ses expériences, y compris celles qui n'ont pas marché.
4. **Mesurer honnêtement** : publier ses indicateurs sans les embellir.
5. **S'entraider** : répondre aux questions des autres membres."""

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

THREADS = [
    {
        "author": "angers",
        "title": "Comment fixer le montant d'un premier budget participatif ?",
        "body": "Nous lançons notre premier budget participatif l'an prochain. "
        "Quel montant par habitant avez-vous retenu au démarrage ?",
        "answers": [
            (
                "saillans",
                "Chez nous, environ **15 € par habitant**, ce qui rendait "
                "possible de vrais projets sans fragiliser le reste du budget.",
            ),
            (
                "mulhouse",
                "Nous avons commencé à 2 € par habitant : c'était trop peu, "
                "beaucoup de projets n'entraient pas dans l'enveloppe.",
            ),
        ],
    },
    {
        "author": "mulhouse",
        "title": "Quel délai de réponse annoncez-vous aux habitants ?",
        "body": "Nous réfléchissons à un engagement de délai pour les réponses "
        "officielles aux propositions. Combien de temps vous donnez-vous ?",
        "answers": [
            ("angers", "Trois mois maximum, et nous publions le délai médian chaque trimestre."),
        ],
    },
    {
        "author": "saillans",
        "title": "Outils pour le vote en ligne accessibles ?",
        "body": "Avez-vous fait auditer l'accessibilité de votre vote en ligne ?",
        "answers": [],
    },
]


def _account(email: str, name: str, role: str, secret: str, tenant_id: int | None):
    user = get_platform_user_by_email(email)
    if user is None:
        user = create_platform_user(email, name, role, password=DEMO_PASSWORD, tenant_id=tenant_id)
        enable_totp_with_secret(user, secret)
        db.session.flush()
    return user


def _grant(network: Network, user: PlatformUser, role: NetworkRoleKind) -> None:
    exists = db.session.scalar(
        sa.select(NetworkRole.id).where(
            NetworkRole.network_id == network.id,
            NetworkRole.platform_user_id == user.id,
            NetworkRole.role == role,
        )
    )
    if exists is None:
        db.session.add(NetworkRole(network_id=network.id, platform_user_id=user.id, role=role))


@demo.register(order=90)
def seed_network():
    from network.forum.models import ForumAnswer, ForumQuestion
    from network.library.models import Practice, PracticeCategory, PracticeOutcome

    tenants = {
        t.slug: t
        for t in db.session.scalars(
            sa.select(Tenant).where(Tenant.slug.in_([slug for slug, *_ in MEMBER_ACCOUNTS]))
        )
    }
    network = db.session.scalar(sa.select(Network).where(Network.slug == NETWORK_SLUG))
    if network is None:
        network = Network(
            slug=NETWORK_SLUG,
            name=NETWORK_NAME,
            description=DESCRIPTION,
            charter=CHARTER,
            public_sections=["members", "library", "benchmarks"],
        )
        db.session.add(network)
        db.session.flush()
    for tenant in tenants.values():
        membership = db.session.scalar(
            sa.select(NetworkMembership).where(
                NetworkMembership.network_id == network.id,
                NetworkMembership.tenant_id == tenant.id,
            )
        )
        if membership is None:
            db.session.add(
                NetworkMembership(
                    network_id=network.id,
                    tenant_id=tenant.id,
                    status=MembershipStatus.ACTIVE,
                    responded_at=sa.func.now(),
                )
            )
    coordinator = get_platform_user_by_email(COORDINATOR_EMAIL)
    if coordinator is not None:
        _grant(network, coordinator, NetworkRoleKind.COORDINATOR)
    agents: dict[str | None, PlatformUser | None] = {None: coordinator}
    for slug, email, name, secret in MEMBER_ACCOUNTS:
        if slug in tenants:
            agents[slug] = _account(email, name, "member", secret, tenants[slug].id)
    evaluator = _account(EVALUATOR[0], EVALUATOR[1], "coordinator", EVALUATOR[2], None)
    _grant(network, evaluator, NetworkRoleKind.EVALUATOR)
    db.session.flush()

    for entry in PRACTICES:
        exists = db.session.scalar(
            sa.select(Practice.id).where(
                Practice.network_id == network.id, Practice.title == entry["title"]
            )
        )
        if exists is not None:
            continue
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

    for thread in THREADS:
        exists = db.session.scalar(
            sa.select(ForumQuestion.id).where(
                ForumQuestion.network_id == network.id, ForumQuestion.title == thread["title"]
            )
        )
        if exists is not None:
            continue
        author = agents.get(thread["author"])
        question = ForumQuestion(
            network_id=network.id,
            author_id=author.id if author else None,
            author_tenant_id=tenants[thread["author"]].id if thread["author"] in tenants else None,
            title=thread["title"],
            body=thread["body"],
        )
        for slug, body in thread["answers"]:
            who = agents.get(slug)
            question.answers.append(
                ForumAnswer(
                    author_id=who.id if who else None,
                    author_tenant_id=tenants[slug].id if slug in tenants else None,
                    body=body,
                )
            )
        db.session.add(question)
    db.session.commit()

    base = f"{current_app.config['PREFERRED_URL_SCHEME']}://{current_app.config['PLATFORM_DOMAIN']}"
    yield f"Network « {NETWORK_NAME} »: {base}/reseaux/{NETWORK_SLUG}"
    yield f"  coordinator: {COORDINATOR_EMAIL}; evaluator: {EVALUATOR[0]} (TOTP {EVALUATOR[2]})"
    for slug, email, _name, secret in MEMBER_ACCOUNTS:
        if slug in tenants:
            yield f"  member for {slug}: {email} (password {DEMO_PASSWORD}, TOTP {secret})"
