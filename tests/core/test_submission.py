"""Refresh and prefetch requests: parsing, the API's rules before any call, and splitting."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.submission import (
    DOMAINS_PER_CALL,
    MAX_DOMAINS,
    Action,
    Kind,
    Submission,
    parse_submission,
)
from bot.core.tasks import host_of
from bot.errors import InvalidQuery

R, P = Action.REFRESH, Action.PREFETCH


A = "https://a.example.com"


@pytest.mark.parametrize(
    ("action", "text", "kind", "paths", "force", "area"),
    [
        (R, f"{A}/x.js", Kind.FILE, [f"{A}/x.js"], False, None),
        (
            R,
            f"{A}/x.js, http://b.example.com/y.css\n{A}/x.js",
            Kind.FILE,
            [f"{A}/x.js", "http://b.example.com/y.css"],
            False,
            None,
        ),
        (R, f"type:dir {A}/s/ force", Kind.DIRECTORY, [f"{A}/s/"], True, None),
        (R, f"TYPE:Regex {A}/.*\\.png", Kind.REGEX, [f"{A}/.*\\.png"], False, None),
        (R, f"type:ignoreparams {A}/p", Kind.IGNORE_PARAMS, [f"{A}/p"], False, None),
        (R, f"<{A}/x.js>", Kind.FILE, [f"{A}/x.js"], False, None),
        (R, f"<{A}/x?a=1&amp;b=2|label>", Kind.FILE, [f"{A}/x?a=1&b=2"], False, None),
        (R, f"{A}/", Kind.FILE, [f"{A}/"], False, None),
        (R, f"{A}/a,{A}/b,", Kind.FILE, [f"{A}/a", f"{A}/b"], False, None),
        (R, f"{A}/q?ids=1,2 ,{A}/b", Kind.FILE, [f"{A}/q?ids=1,2", f"{A}/b"], False, None),
        (P, f"{A}/x.js area:Overseas", Kind.FILE, [f"{A}/x.js"], False, "overseas"),
    ],
)
def test_valid_requests(action, text, kind, paths, force, area):
    submission = parse_submission(action, text)
    assert submission == Submission(action, kind, tuple(paths), force, area)


@pytest.mark.parametrize(
    ("action", "text", "field", "hint"),
    [
        (R, "", "url", "name at least one URL"),
        (R, "ftp://a.example.com/x", "url", "only http:// and https://"),
        (R, "www.example.com/app.js", "url", "add the scheme: `https://www.example.com/app.js`"),
        (R, "status:failed", "url", "not a URL"),
        (R, "type:dir https://a.example.com/s", "url", "ends with `/`"),
        (R, "https://a.example.com/static/", "url", "add `type:dir`"),
        (R, "type:folder https://a.example.com/s/", "type", "use one of"),
        (R, "https://a.example.com/x.js force", "force", "applies to `type:dir`"),
        (P, "https://a.example.com/x.js force", "force", "prefetch has none"),
        (P, "https://a.example.com/x.js area:mars", "area", "area:domestic"),
        (P, "type:dir https://a.example.com/s/", "url", "`area:`"),
        (P, "failed", "url", "`/cdn type:prefetch`"),
        (R, "https://*.example.com/x.js", "url", "no wildcards"),
        (R, "https://a.example.com/" + "x" * 1100, "url", "at most 1024"),
        (
            R,
            " ".join(f"https://d{n}.example.com/x" for n in range(MAX_DOMAINS + 1)),
            "domain",
            "split it by domain",
        ),
    ],
)
def test_invalid_requests_say_what_to_change(action, text, field, hint):
    with pytest.raises(InvalidQuery) as refused:
        parse_submission(action, text)
    assert refused.value.field == field
    assert hint in refused.value.hint


def test_calls_respect_paths_per_call_by_kind():
    files = parse_submission(R, " ".join(f"https://a.example.com/{n}" for n in range(2500)))
    assert [len(call) for call in files.calls()] == [1000, 1000, 500]
    dirs = parse_submission(
        R, "type:dir " + " ".join(f"https://a.example.com/{n}/" for n in range(150))
    )
    assert [len(call) for call in dirs.calls()] == [100, 50]
    regexes = parse_submission(R, "type:regex https://a.example.com/a.* https://a.example.com/b.*")
    assert [len(call) for call in regexes.calls()] == [1, 1]
    pushes = parse_submission(P, " ".join(f"https://a.example.com/{n}" for n in range(250)))
    assert [len(call) for call in pushes.calls()] == [100, 100, 50]


@given(
    hosts=st.lists(st.integers(0, MAX_DOMAINS - 1), min_size=1, max_size=400),
    action=st.sampled_from([R, P]),
)
def test_every_path_goes_out_once_within_the_limits(hosts, action):
    text = " ".join(f"https://d{host}.example.com/{n}" for n, host in enumerate(hosts))
    submission = parse_submission(action, text)
    calls = submission.calls()
    assert [path for call in calls for path in call] == list(submission.paths)
    for call in calls:
        assert 1 <= len(call) <= submission.per_call
        assert len({host_of(path) for path in call}) <= DOMAINS_PER_CALL
