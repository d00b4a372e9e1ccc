"""Demo debates: one per open process of each demo collectivité (whose current phase allows
debating), with arguments pour and contre and a few replies, and comments on some
proposals. Idempotent: found by their text, nothing is added twice.

Rows are written directly rather than through the services, so seeding sends no
notification e-mail to the demo accounts.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from core import clock, demo
from core.db import db
from participation.accounts.demo import DEMO_CITIZENS, demo_email
from participation.accounts.models import StaffRole, User
from participation.debates.models import Argument, Debate, Side
from participation.engagement.comments import Comment
from participation.engagement.models import Follow, TargetType
from participation.processes.models import Process, ProcessState
from participation.proposals.models import Proposal
from tenants.context import tenant_context


@dataclass(frozen=True)
class DemoDebate:
    question: str
    description: str
    pour: tuple[tuple[str, tuple[str, ...]], ...]  # (argument, replies)
    contre: tuple[tuple[str, tuple[str, ...]], ...]


DEBATES: dict[str, list[DemoDebate]] = {
    "mulhouse": [
        DemoDebate(
            "Faut-il piétonniser la rue du Sauvage le samedi ?",
            "La rue du Sauvage est l'axe commerçant du centre-ville. La Ville étudie sa "
            "fermeture aux voitures le samedi, de 10 h à 19 h, à partir du printemps. "
            "Vos arguments seront présentés au conseil municipal avant la décision.",
            (
                (
                    "Le samedi, on se marche dessus sur des trottoirs trop étroits : avec la rue "
                    "entière, les familles et les poussettes respireront enfin.",
                    ("Et les terrasses pourraient s'agrandir, ce qui attirerait du monde.",),
                ),
                (
                    "Moins de bruit et de pollution au cœur de la ville, c'est bon pour tout le "
                    "monde, commerçants compris.",
                    (),
                ),
            ),
            (
                (
                    "Les livraisons du samedi matin deviendront un casse-tête pour les petits "
                    "commerces.",
                    ("Une plage horaire de livraison avant 10 h réglerait le problème.",),
                ),
                (
                    "Les personnes à mobilité réduite ont besoin de pouvoir être déposées au "
                    "plus près.",
                    (),
                ),
            ),
        ),
        DemoDebate(
            "Faut-il interdire les voitures devant les écoles aux heures d'entrée ?",
            "Des « rues scolaires » fermées 30 minutes matin et soir existent dans d'autres "
            "villes. Faut-il les généraliser à Mulhouse ?",
            (("La sécurité des enfants passe avant tout.", ()),),
            (("Certains parents n'ont pas d'autre solution que la voiture.", ()),),
        ),
    ],
    "saillans": [
        DemoDebate(
            "Faut-il éteindre l'éclairage public de minuit à 5 heures ?",
            "L'extinction nocturne économiserait environ un tiers de la facture d'éclairage "
            "et protégerait la faune. Le conseil décidera après ce débat.",
            (
                (
                    "On reverrait les étoiles, et les chauves-souris reviendraient.",
                    ("Et c'est autant d'argent pour d'autres projets du village.",),
                ),
            ),
            (
                (
                    "Rentrer à pied du dernier bus dans le noir ne rassure pas tout le monde.",
                    ("On pourrait garder éclairés le pont et la route de la gare.",),
                ),
            ),
        ),
    ],
    "angers": [
        DemoDebate(
            "Faut-il réserver les quais de la Maine aux piétons et aux vélos le dimanche ?",
            "Chaque dimanche d'avril à octobre, les quais seraient fermés aux voitures de "
            "9 h à 20 h. Donnez vos arguments avant la décision du conseil municipal.",
            (
                (
                    "Les quais deviendraient une vraie promenade familiale au bord de l'eau.",
                    ("Les guinguettes et les marchés y trouveraient leur place.",),
                ),
            ),
            (
                (
                    "La circulation reportée encombrera les rues de la Doutre.",
                    ("Il faudrait un plan de circulation pour le quartier avant de décider.",),
                ),
            ),
        ),
    ],
}

PROPOSAL_COMMENTS = (
    ("Très bonne idée, je soutiens !", "Merci ! Il faudrait aussi penser à l'entretien."),
    ("Avez-vous une idée du coût ?", None),
)


def _tenant_ids() -> dict[str, int]:
    rows = db.session.execute(
        sa.text(
            "SELECT slug, id FROM public.tenants WHERE slug IN :slugs AND status = 'active'"
        ).bindparams(sa.bindparam("slugs", expanding=True)),
        {"slugs": list(DEBATES)},
    )
    ids = {slug: tenant_id for slug, tenant_id in rows}
    db.session.rollback()
    return ids


def demo_citizens(slug: str) -> list[User]:
    emails = [demo_email(name) for name, _bracket, _place in DEMO_CITIZENS.get(slug, [])]
    users = {
        u.email: u
        for u in db.session.scalars(sa.select(User).where(sa.func.lower(User.email).in_(emails)))
    }
    return [users[e] for e in emails if e in users]


def _staff_author() -> User | None:
    return db.session.scalar(
        sa.select(User)
        .where(User.staff_role.in_([StaffRole.ADMIN, StaffRole.MODERATOR]))
        .order_by(User.id)
        .limit(1)
    )


def _open_processes() -> list[Process]:
    on = clock.paris_today()
    processes = db.session.scalars(
        sa.select(Process).where(Process.state == ProcessState.PUBLISHED).order_by(Process.id)
    )
    return [p for p in processes if p.allows("debate", on)]


def _argument(debate: Debate, side: Side, body: str, author: User, parent=None) -> Argument:
    found = db.session.scalar(
        sa.select(Argument).where(Argument.debate_id == debate.id, Argument.body == body)
    )
    if found is None:
        found = Argument(
            debate_id=debate.id,
            side=parent.side if parent is not None else side,
            parent_id=parent.id if parent is not None else None,
            author_id=author.id,
            body=body,
        )
        db.session.add(found)
        db.session.flush()
    return found


def _seed_debate(process: Process, spec: DemoDebate, citizens: list[User], staff) -> Debate:
    debate = db.session.scalar(
        sa.select(Debate).where(Debate.process_id == process.id, Debate.question == spec.question)
    )
    if debate is None:
        debate = Debate(
            process_id=process.id,
            question=spec.question,
            description=spec.description,
            created_by_id=staff.id if staff else None,
        )
        db.session.add(debate)
        db.session.flush()
        if staff is not None:
            db.session.add(
                Follow(user_id=staff.id, target_type=TargetType.DEBATE, target_id=debate.id)
            )
    if not citizens:
        return debate
    turn = 0
    for side, arguments in ((Side.FOR, spec.pour), (Side.AGAINST, spec.contre)):
        for body, replies in arguments:
            argument = _argument(debate, side, body, citizens[turn % len(citizens)])
            turn += 1
            for reply in replies:
                _argument(debate, side, reply, citizens[turn % len(citizens)], parent=argument)
                turn += 1
    return debate


def _seed_proposal_comments(citizens: list[User]) -> int:
    if len(citizens) < 2:
        return 0
    proposals = list(
        db.session.scalars(
            sa.select(Proposal)
            .join(Process, Process.id == Proposal.process_id)
            .where(
                Process.state == ProcessState.PUBLISHED,
                Proposal.hidden_at.is_(None),
                Proposal.withdrawn_at.is_(None),
            )
            .order_by(Proposal.id)
            .limit(3)
        )
    )
    added = 0
    for index, proposal in enumerate(proposals):
        first, answer = PROPOSAL_COMMENTS[index % len(PROPOSAL_COMMENTS)]
        author = citizens[index % len(citizens)]
        replier = citizens[(index + 1) % len(citizens)]
        comment = db.session.scalar(
            sa.select(Comment).where(Comment.proposal_id == proposal.id, Comment.body == first)
        )
        if comment is None:
            comment = Comment(proposal_id=proposal.id, author_id=author.id, body=first)
            db.session.add(comment)
            db.session.flush()
            added += 1
        if answer and not db.session.scalar(
            sa.select(Comment.id).where(Comment.parent_id == comment.id, Comment.body == answer)
        ):
            db.session.add(
                Comment(
                    proposal_id=proposal.id,
                    parent_id=comment.id,
                    depth=1,
                    author_id=replier.id,
                    body=answer,
                )
            )
            added += 1
    db.session.flush()
    return added


# A lively thread (more than one page of 30 top-level comments) on one proposal per
# tenant, to show the "Commentaires suivants" links: 6 × 6 distinct short opinions.
LIVELY_OPENINGS = (
    "Tout à fait d'accord",
    "Bonne idée",
    "Je soutiens",
    "Pourquoi pas, mais attention",
    "Enfin une proposition concrète",
    "Je suis plus réservé·e",
)
LIVELY_DETAILS = (
    "le soir, l'endroit manque vraiment d'éclairage.",
    "les enfants de l'école d'à côté en profiteraient tous les jours.",
    "il faudra penser à l'entretien, sinon cela ne durera pas.",
    "les commerçants du quartier y gagneraient aussi.",
    "les personnes âgées ont besoin de pouvoir s'asseoir en chemin.",
    "il faut consulter les riverains avant de décider de l'emplacement.",
)


def _seed_lively_thread(citizens: list[User]) -> int:
    """36 top-level comments on the first public proposal (idempotent: by text)."""
    if len(citizens) < 2:
        return 0
    proposal = db.session.scalar(
        sa.select(Proposal)
        .join(Process, Process.id == Proposal.process_id)
        .where(
            Process.state == ProcessState.PUBLISHED,
            Proposal.hidden_at.is_(None),
            Proposal.withdrawn_at.is_(None),
        )
        .order_by(Proposal.id)
        .limit(1)
    )
    if proposal is None:
        return 0
    existing = set(
        db.session.scalars(sa.select(Comment.body).where(Comment.proposal_id == proposal.id))
    )
    added = 0
    for index, (opening, detail) in enumerate(
        (o, d) for o in LIVELY_OPENINGS for d in LIVELY_DETAILS
    ):
        body = f"{opening} : {detail}"
        if body in existing:
            continue
        db.session.add(
            Comment(
                proposal_id=proposal.id,
                author_id=citizens[(index + 2) % len(citizens)].id,
                body=body,
            )
        )
        added += 1
    db.session.flush()
    return added


@demo.register(order=70)
def seed_debates():
    ids = _tenant_ids()
    for slug in DEBATES:
        if slug not in ids:
            yield f"debates demo: {slug} is not an active tenant, skipped"
            continue
        with tenant_context(ids[slug]) as tenant:
            citizens = demo_citizens(slug)
            staff = _staff_author()
            processes = _open_processes()
            specs = DEBATES[slug]
            debates = [
                _seed_debate(process, specs[index % len(specs)], citizens, staff)
                for index, process in enumerate(processes)
            ]
            comments = _seed_proposal_comments(citizens) + _seed_lively_thread(citizens)
            db.session.commit()
            pages = ", ".join(f"/debats/{d.id}" for d in debates) or "aucune démarche au débat"
            yield (
                f"{tenant.name} débats: {len(debates)} ({pages}), "
                f"{comments} commentaire(s) ajouté(s) sur des propositions"
            )
