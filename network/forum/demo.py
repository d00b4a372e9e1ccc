"""Demo threads of the demo network's forum: three questions of the member agents and
their answers. Idempotent: looked up by title."""

from __future__ import annotations

from core import demo
from core.db import db
from network.core.demo import demo_members, entries_to_add
from network.forum.models import ForumAnswer, ForumQuestion

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


@demo.register(order=92)
def seed_threads() -> list[str]:
    network, tenants, agents = demo_members()
    if network is None:
        return []
    for thread in entries_to_add(ForumQuestion, network, THREADS):
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
    return []  # nothing to print: the network's lines say where to look
