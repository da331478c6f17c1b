"""What the permission matrix tests of the plugins share.

Each matrix file lists its ``CASES`` as ``(endpoint, "[METHOD ]url", expected[, form data])``:
the URL may hold ``{placeholders}`` filled from the file's ``world`` values, ``expected`` is the
status per role in the file's ``ROLES`` order. :func:`cases_of` turns them into :class:`Case`
objects; the checks below return the problems they find (empty when all is well), so that each
file asserts with its own wording.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl

from conftest import page_code_problems
from werkzeug.exceptions import MethodNotAllowed


@dataclass(frozen=True)
class Case:
    endpoint: str
    method: str  # GET, …; FORM and POST: a form with CSRF token (see send)
    url: str
    expected: tuple[int, ...]
    data: dict | None = None


def cases_of(raw, values: dict | None = None) -> list[Case]:
    """The cases of ``raw`` (see the module docstring) with placeholders filled in."""
    cases = []
    for endpoint, request, expected, *data in raw:
        method, _, url = request.rpartition(" ")
        url = url.format(**values) if values else url
        cases.append(Case(endpoint, method or "GET", url, expected, data[0] if data else None))
    return cases


def send(client, case: Case):
    """The request of ``case`` as a browser sends it: a ``FORM`` or ``POST`` case is a form
    with a valid CSRF token (its query string and data as fields), anything else as it is."""
    if case.method in ("FORM", "POST"):
        path, _, query = case.url.partition("?")
        return client.form(path, dict(parse_qsl(query)) | dict(case.data or {}))
    return client.open(case.url, method=case.method)


def endpoints_of(cases) -> set[str]:
    """The endpoints that ``cases`` (:class:`Case` objects or raw tuples) are filed under."""
    return {case.endpoint if isinstance(case, Case) else case[0] for case in cases}


def missing_routes(rules, cases) -> list[str]:
    """A line per route of ``rules`` that no case (as in :func:`endpoints_of`) is filed under."""
    covered = endpoints_of(cases)
    missing = sorted(
        (rule.endpoint, rule.rule, ", ".join(sorted(rule.methods - {"HEAD", "OPTIONS"})))
        for rule in rules
        if rule.endpoint not in covered
    )
    return [f"  {endpoint:<36} {methods:<16} {rule}" for endpoint, rule, methods in missing]


def stale_endpoints(app, cases) -> list[str]:
    """Endpoints that cases (as in :func:`endpoints_of`) are filed under but the app lacks."""
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    return sorted(endpoints_of(cases) - endpoints)


def misrouted(app, cases: list[Case]) -> list[str]:
    """Cases whose URL reaches another route than the one they are filed under."""
    adapter = app.url_map.bind("wiki.test")
    wrong = []
    for case in cases:
        path = case.url.split("?", 1)[0]
        method = "POST" if case.method == "FORM" else case.method
        try:
            matched = adapter.match(path, method=method)[0]
        except MethodNotAllowed:  # a GET to a POST-only route: which route refused it?
            matched = adapter.match(path, method="POST")[0]
        if matched != case.endpoint:
            wrong.append(f"{case.method} {case.url} reaches {matched}, filed under {case.endpoint}")
    return wrong


def matrix_problems(client, cases: list[Case], column: int) -> list[str]:
    """Every case whose status for the role in ``column`` is not the expected one."""
    problems = []
    for case in cases:
        response = send(client, case)
        if response.status_code != case.expected[column]:
            problems.append(
                f"{case.endpoint:<34} {case.method} {case.url}: {response.status_code}, "
                f"expected {case.expected[column]}"
            )
    return problems


def page_problems(client, cases: list[Case]) -> list[str]:
    """Forms without CSRF token and inline code on every page a GET case shows."""
    problems = []
    for case in cases:
        if case.method == "GET":
            problems.extend(page_code_problems(case.url, client.get(case.url)))
    return problems


def csrf_problems(client, cases: list[Case], endpoints, data: dict) -> list[str]:
    """The POST routes ``endpoints`` (each at the URL of its first case) that do not refuse a
    POST of ``data`` without the CSRF token with 400 and the security-token message."""
    first_url: dict[str, str] = {}
    for case in cases:
        first_url.setdefault(case.endpoint, case.url)
    problems = []
    for endpoint in endpoints:
        url = first_url[endpoint]
        response = client.post(url, data=data)
        if response.status_code != 400 or "Sicherheitstoken" not in response.get_data(as_text=True):
            problems.append(f"{endpoint} {url}: {response.status_code}")
    return problems
