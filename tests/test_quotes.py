"""Every quote the book prints as "the supplement's words" is the supplement's, verbatim."""

from pathlib import Path

import pytest

from rstlib.paper.claims.quotes import misquoted, supplement_text
from rstlib.paper.claims.registry import REGISTRY

SEED = Path(__file__).resolve().parent.parent.parent / "shared" / "seed"


@pytest.fixture(scope="module")
def supplement():
    text = supplement_text(SEED)
    if text is None:
        pytest.skip(f"the supplement's text is not at {SEED} (the shared seed folder sits beside the repository)")
    return text


@pytest.mark.parametrize("spec", REGISTRY, ids=lambda s: s.id)
def test_every_registered_quote_is_verbatim(spec, supplement):
    missing = misquoted(spec.quote, supplement)
    assert missing is None, f"{spec.id}: not the supplement's words: {missing!r}"


def test_the_checker_refuses_a_changed_word_and_fragments_out_of_order():
    text = "we can observe that (1) R2S consis-\ntently and aggressively improves the robust\naccuracy; CW-\nInf attacks"
    assert misquoted("R2S consistently and aggressively improves the robust accuracy", text) is None
    assert misquoted("CW-Inf attacks", text) is None
    assert misquoted("R2S [...] the robust accuracy", text) is None
    assert misquoted("R2S consistently and aggressively improves the natural accuracy", text) is not None
    assert misquoted("the robust accuracy [...] R2S", text) is not None
