"""Business rules of the consultations, one concern a module:

- ``common``: limits, French labels, :class:`SurveyError`, who manages surveys;
- ``queries``: finding surveys and the display order of a questionnaire;
- ``builder``: the staff's questionnaire builder (survey, sections, questions, publication
  of the survey, of its results and of its outcome);
- ``answering``: who may answer, reading an answer sheet, recording a response;
- ``results``: the aggregated results (SQL, cached in Redis) and who may see them;
- ``exports``: the CSV of the responses and the RGPD export section.

Services add and flush, never commit, never read ``request``; a broken rule raises
:class:`SurveyError` with a French message. Code outside this package imports from here
(``from participation.surveys import services``); the modules inside import each other.
"""

from participation.surveys.services.answering import (
    ANONYMOUS_EDIT_REFUSAL,
    answer_refusal,
    has_answered,
    own_response,
    parse_sheet,
    sheet_from_response,
    submit_response,
)
from participation.surveys.services.builder import (
    QuestionFields,
    SurveyFields,
    condition_choices,
    create_survey,
    delete_question,
    delete_section,
    delete_survey,
    move_question,
    publish_survey,
    save_outcome,
    save_question,
    save_section,
    set_results_published,
    update_survey,
)
from participation.surveys.services.common import (
    AUDIT_ACTION_LABELS,
    KIND_LABELS,
    MANAGERS,
    STATUS_LABELS,
    SurveyError,
    is_manager,
)
from participation.surveys.services.exports import export_csv, rgpd_section
from participation.surveys.services.queries import (
    blocks,
    condition_of,
    count_responses,
    get_survey,
    grouped_public_surveys,
    phase_surveys,
    process_choices,
    process_surveys,
    question_numbers,
    response_counts,
    staff_surveys,
)
from participation.surveys.services.results import (
    compute_results,
    outcome_visible,
    results_visible,
)
from participation.surveys.visibility import is_public

__all__ = [
    "ANONYMOUS_EDIT_REFUSAL",
    "AUDIT_ACTION_LABELS",
    "KIND_LABELS",
    "MANAGERS",
    "STATUS_LABELS",
    "QuestionFields",
    "SurveyError",
    "SurveyFields",
    "answer_refusal",
    "blocks",
    "compute_results",
    "condition_choices",
    "condition_of",
    "count_responses",
    "create_survey",
    "delete_question",
    "delete_section",
    "delete_survey",
    "export_csv",
    "get_survey",
    "grouped_public_surveys",
    "has_answered",
    "is_manager",
    "is_public",
    "move_question",
    "outcome_visible",
    "own_response",
    "parse_sheet",
    "phase_surveys",
    "process_choices",
    "process_surveys",
    "publish_survey",
    "question_numbers",
    "response_counts",
    "results_visible",
    "rgpd_section",
    "save_outcome",
    "save_question",
    "save_section",
    "set_results_published",
    "sheet_from_response",
    "staff_surveys",
    "submit_response",
    "update_survey",
]
