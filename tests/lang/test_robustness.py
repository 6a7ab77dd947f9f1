"""Bad input gets a UknfvError with a location, never a crash."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from uknfv.diag import UknfvError
from uknfv.lang import load, unparse

_FRAGMENTS = [
    "a", "b", "x", "Foo", "Idle", "Discard", "input", "output", "::", "->", "=>", ",", ";",
    "[", "]", "[1]", "(", ")", "(1, 2)", "{", "}", "|", "||", "...", "$a", "$X", "K $k",
    "elementclass", "define", "require", "E", "\n", " ", "//c\n", "/*c*/", '"', "'", "@",
    "/", "%", "0", "(${a})", "($X)",
]


@given(st.lists(st.sampled_from(_FRAGMENTS), max_size=25).map(" ".join))
@settings(max_examples=400, deadline=None)
def test_random_token_soup_gives_located_errors(text: str) -> None:
    try:
        flat = load(text, "soup.click", defines={"X": "1"})
    except UknfvError as err:
        for e in err.errors:
            assert e.loc is not None and e.loc.file == "soup.click"
            assert str(e).startswith("soup.click:")
        return
    # what elaborates must flatten to text that elaborates to the same thing
    again = unparse(load(unparse(flat), "flat.click"))
    assert again == unparse(flat)


@given(st.text(max_size=60))
@settings(max_examples=300, deadline=None)
def test_arbitrary_text_never_crashes(text: str) -> None:
    try:
        load(text, "any.click")
    except UknfvError as err:
        assert all(e.loc is not None for e in err.errors)
