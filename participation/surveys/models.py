"""Surveys ("consultations"): questionnaire, sections, questions, options, responses.

Anonymous surveys keep no link between a response and an account: ``SurveyResponse.user_id``
is NULL (a database trigger refuses anything else) and ``SurveyParticipation`` records only
that the account answered (no timestamp, no response id), to refuse a second response.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import TENANT, TimestampMixin, db, str_enum


class SurveyState(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class QuestionKind(enum.StrEnum):
    SINGLE = "single"  # one choice (radio buttons)
    MULTIPLE = "multiple"  # several choices (check boxes), optional maximum
    SCALE = "scale"  # 1 to 5
    RANKING = "ranking"  # every option gets a distinct rank
    SHORT_TEXT = "short_text"
    LONG_TEXT = "long_text"
    NUMBER = "number"
    DATE = "date"

    @property
    def has_options(self) -> bool:
        return self in (QuestionKind.SINGLE, QuestionKind.MULTIPLE, QuestionKind.RANKING)

    @property
    def is_text(self) -> bool:
        return self in (QuestionKind.SHORT_TEXT, QuestionKind.LONG_TEXT)


SCALE_MIN, SCALE_MAX = 1, 5


class InvalidSurveyTransition(ValueError):
    """A state change the survey lifecycle does not allow (message in French)."""


class Survey(TimestampMixin, db.Model):
    __tablename__ = "surveys"
    __table_args__ = (
        sa.CheckConstraint("closes_on >= opens_on", name="dates_in_order"),
        TENANT,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    summary: Mapped[str] = mapped_column(sa.String(500), default="")
    description: Mapped[str] = mapped_column(sa.Text, default="")  # Markdown
    process_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tenant.processes.id", ondelete="SET NULL"), index=True
    )
    phase_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tenant.phases.id", ondelete="SET NULL"), index=True
    )
    state: Mapped[SurveyState] = mapped_column(
        str_enum(SurveyState, "survey_state"), default=SurveyState.DRAFT
    )
    is_anonymous: Mapped[bool] = mapped_column(default=False)
    opens_on: Mapped[date] = mapped_column(sa.Date)  # first day, Paris time
    closes_on: Mapped[date] = mapped_column(sa.Date)  # last day included
    published_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    results_published_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    outcome: Mapped[str] = mapped_column(sa.Text, default="")  # « Vous avez dit, nous avons fait »
    outcome_published_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tenant.users.id", ondelete="SET NULL")
    )

    process = relationship("Process")
    phase = relationship("Phase")
    sections: Mapped[list[SurveySection]] = relationship(
        back_populates="survey",
        order_by="SurveySection.position",
        cascade="all, delete-orphan",
    )
    questions: Mapped[list[SurveyQuestion]] = relationship(
        back_populates="survey",
        order_by="SurveyQuestion.position",
        cascade="all, delete-orphan",
    )

    @property
    def is_published(self) -> bool:
        return self.state == SurveyState.PUBLISHED

    def is_open(self, today: date) -> bool:
        return self.is_published and self.opens_on <= today <= self.closes_on

    def status(self, today: date) -> str:
        """ "draft", "upcoming", "open" or "closed"."""
        if not self.is_published:
            return "draft"
        if today < self.opens_on:
            return "upcoming"
        if today > self.closes_on:
            return "closed"
        return "open"

    def publish(self) -> None:
        if self.is_published:
            raise InvalidSurveyTransition("Cette consultation est déjà publiée.")
        if not self.questions:
            raise InvalidSurveyTransition("Ajoutez au moins une question avant de publier.")
        self.state = SurveyState.PUBLISHED
        self.published_at = sa.func.now()


class SurveySection(db.Model):
    __tablename__ = "survey_sections"
    __table_args__ = TENANT

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tenant.surveys.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")

    survey: Mapped[Survey] = relationship(back_populates="sections")


class SurveyQuestion(db.Model):
    __tablename__ = "survey_questions"
    __table_args__ = (
        sa.CheckConstraint("max_choices IS NULL OR max_choices >= 1", name="max_choices"),
        TENANT,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tenant.surveys.id", ondelete="CASCADE"), index=True
    )
    section_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tenant.survey_sections.id", ondelete="SET NULL")
    )
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[QuestionKind] = mapped_column(str_enum(QuestionKind, "question_kind"))
    text: Mapped[str] = mapped_column(sa.String(500))
    help_text: Mapped[str] = mapped_column(sa.String(1000), default="")
    is_required: Mapped[bool] = mapped_column(default=False)
    max_choices: Mapped[int | None]
    scale_min_label: Mapped[str] = mapped_column(sa.String(80), default="")
    scale_max_label: Mapped[str] = mapped_column(sa.String(80), default="")
    # Shown only to those whose answer to an earlier question includes this option.
    condition_option_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey(
            "tenant.survey_options.id",
            ondelete="SET NULL",
            use_alter=True,
            name="fk_survey_questions_condition_option_id_survey_options",
        )
    )

    survey: Mapped[Survey] = relationship(back_populates="questions")
    section: Mapped[SurveySection | None] = relationship()
    options: Mapped[list[SurveyOption]] = relationship(
        back_populates="question",
        order_by="SurveyOption.position",
        cascade="all, delete-orphan",
        foreign_keys="SurveyOption.question_id",
    )
    condition_option: Mapped[SurveyOption | None] = relationship(
        foreign_keys=[condition_option_id], post_update=True
    )


class SurveyOption(db.Model):
    __tablename__ = "survey_options"
    __table_args__ = TENANT

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tenant.survey_questions.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    label: Mapped[str] = mapped_column(sa.String(200))

    question: Mapped[SurveyQuestion] = relationship(
        back_populates="options", foreign_keys=[question_id]
    )


class SurveyResponse(db.Model):
    """One response. ``user_id`` is NULL in anonymous surveys (enforced by a trigger)."""

    __tablename__ = "survey_responses"
    __table_args__ = (
        sa.UniqueConstraint("survey_id", "user_id"),
        sa.Index("ix_survey_responses_survey_submitted", "survey_id", "submitted_at"),
        TENANT,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(sa.ForeignKey("tenant.surveys.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tenant.users.id", ondelete="CASCADE")
    )
    channel: Mapped[str] = mapped_column(sa.String(20), default="web")  # "web" or "paper"
    submitted_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now()
    )
    edited_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    user = relationship("User")
    answers: Mapped[list[SurveyAnswer]] = relationship(
        back_populates="response", cascade="all, delete-orphan", passive_deletes=True
    )


class SurveyParticipation(db.Model):
    """This account has answered this survey: nothing more (no time, no response id)."""

    __tablename__ = "survey_participations"
    __table_args__ = TENANT

    survey_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tenant.surveys.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tenant.users.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class SurveyAnswer(db.Model):
    """One answer value: one row per chosen option (choices), per ranked option (ranking,
    with ``rank``), or per question (scale and number in ``number_value``, text, date)."""

    __tablename__ = "survey_answers"
    __table_args__ = (
        sa.CheckConstraint("rank IS NULL OR rank >= 1", name="rank_positive"),
        # Covering: the per-option counts and rank sums are read from the index alone.
        sa.Index(
            "ix_survey_answers_question_option",
            "question_id",
            "option_id",
            postgresql_include=["rank", "response_id"],
        ),
        TENANT,
    )

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    response_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tenant.survey_responses.id", ondelete="CASCADE"), index=True
    )
    question_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tenant.survey_questions.id", ondelete="CASCADE")
    )
    option_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("tenant.survey_options.id", ondelete="CASCADE")
    )
    rank: Mapped[int | None] = mapped_column(sa.SmallInteger)
    number_value: Mapped[Decimal | None] = mapped_column(sa.Numeric)
    date_value: Mapped[date | None] = mapped_column(sa.Date)
    text_value: Mapped[str | None] = mapped_column(sa.Text)

    response: Mapped[SurveyResponse] = relationship(back_populates="answers")
