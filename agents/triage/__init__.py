"""Triage: a ranking stage for every paper (no model call), then the model for the top K.

1. The editor's exclude keywords drop a paper (Score 0): the one hard rule left.
2. The ranking stage (agents/ranking.py) scores every other paper from sentence embeddings:
   similarity to the beat paragraph and to what the editors featured before, the beat's regex
   vocabulary as one soft feature, and the editor's include keywords and watched authors.
3. The K best-ranked papers (`FLASHNEWS_TRIAGE_MODEL_PAPERS`) and every paper the editor's
   include rules name go to the model, in one of two ways:
   - logprob: one yes/no question per paper, read by P(yes). Small local models cannot write
     calibrated integers but rank well by P(yes) (docs/models.md).
   - generated: the model writes Score, rationale and key claims for a batch of papers via
     function calling; every claim's span is verified against the abstract by code.
4. Score and Hype come from the learned ranker (agents/learner.py): for a paper the model did
   not see, from the ranking's log-odds; for one it saw, from the ranking and the model's
   log-odds combined; Hype from evidence a reader can see (agents/hype.py). Every feature, and
   the three that moved the Score most, are kept in the assessment.
The model's verdict is cached in the store as soon as it exists (paper id + version + prompt
hash + model), and embeddings likewise, so no paper is scored or embedded twice.

The package, by job: `rules` (the beat's vocabulary and the editor's keyword rules),
`injection` (what the model is shown of an untrusted abstract), `claims` (key claims taken or
checked by code), `scoring` (the Triage stage: ranking, the concurrent model calls, the final
assessment) and `budget` (shrinking the writing plan to what is left). Selection lives in
agents/selection.py.
"""

from flashnews.agents.selection import select
from flashnews.agents.triage.budget import fit_to_budget
from flashnews.agents.triage.claims import claims_from_abstract, span_supported
from flashnews.agents.triage.injection import _paper_vars, injection_findings
from flashnews.agents.triage.rules import (
    _LLM,
    BEAT_TERMS,
    MIN_BEAT_HITS,
    RULES_HASH,
    _hits,
    _matches,
    config_verdict,
    rules_verdict,
    topics_of,
    watch_findings,
    watched_author,
)
from flashnews.agents.triage.scoring import (
    Cache,
    GeneratedAssessment,
    GeneratedClaim,
    Triage,
    TriageBatch,
    model_probability,
    opening,
)

__all__ = [
    "BEAT_TERMS",
    "MIN_BEAT_HITS",
    "RULES_HASH",
    "_LLM",
    "Cache",
    "GeneratedAssessment",
    "GeneratedClaim",
    "Triage",
    "TriageBatch",
    "_hits",
    "_matches",
    "_paper_vars",
    "claims_from_abstract",
    "config_verdict",
    "fit_to_budget",
    "injection_findings",
    "model_probability",
    "opening",
    "rules_verdict",
    "select",
    "span_supported",
    "topics_of",
    "watch_findings",
    "watched_author",
]
