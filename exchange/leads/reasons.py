"""The fixed list of reason codes a lead can carry (documented in docs/leads.md; their
words are in ``exchange.words``).

A code names a finding of a check; most findings reject the lead, some only
flag it (recorded with negative points, see docs/leads.md). The parts of the
score are listed in ``SCORE_PARTS``."""

from exchange.words import explanations

REASONS = explanations("reason")
SCORE_PARTS = explanations("score_part")
