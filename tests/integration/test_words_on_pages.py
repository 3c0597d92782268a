"""No page of any role shows a bare code (issue 20, point 2): the demo is seeded, every
demo login walks its pages (each link it is shown, two of each kind of page), and no
snake_case code is left in what a person reads. Codes may stay where a machine or a
developer reads them: in <code>, form values, scripts, and {placeholders} of templates."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from exchange.demo import NEWCOMER, PASSWORD, PEOPLE
from tests.integration.test_cli import run

SNAKE = re.compile(r"\b[a-z0-9]+(?:_[a-z0-9]+)+\b")
NOT_READ = ("script", "style", "code", "pre", "textarea", "select")  # a person does not read codes there
NOT_PAGES = (".csv", "/logout", "/c/", "/f/", "/api/", "/static/", "/demo/")
SAME_KIND_OF_PAGE = 2  # /advertiser/leads/7 and /advertiser/leads/8 are one kind of page


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.links: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs) -> None:
        self._hidden += tag in NOT_READ
        href = dict(attrs).get("href") or ""
        if tag == "a" and href.startswith("/") and not href.startswith("//"):
            self.links.append(href.split("#")[0])

    def handle_endtag(self, tag) -> None:
        self._hidden -= tag in NOT_READ

    def handle_data(self, data) -> None:
        if not self._hidden:
            self.text.append(data)


def codes_shown(client) -> dict[str, str]:
    """Each bare code a page shows, with the first page it is on."""
    seen: set[str] = set()
    kinds: dict[str, int] = {}
    queue, found = ["/"], {}
    while queue:
        path = queue.pop(0)
        kind = re.sub(r"\d+", "N", path.split("?")[0])
        if path in seen or any(part in path for part in NOT_PAGES) or kinds.get(kind, 0) >= SAME_KIND_OF_PAGE:
            continue
        seen.add(path)
        kinds[kind] = kinds.get(kind, 0) + 1
        answer = client.get(path, follow_redirects=True)
        if answer.status_code != 200 or answer.mimetype != "text/html":
            continue
        page = Page()
        page.feed(answer.get_data(as_text=True))
        text = re.sub(r"\{[^}]*\}", "", " ".join(page.text))
        for code in SNAKE.findall(text):
            found.setdefault(code, path)
        queue += page.links
    return found


def test_no_page_of_any_role_shows_a_bare_code(live):
    assert run(live, "demo", "seed").exit_code == 0
    logins = [email for _, _, email, _ in PEOPLE] + [NEWCOMER[2]]

    shown = {}
    for email in logins:
        client = live.test_client()
        assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302
        shown.update({code: f"{email} {path}" for code, path in codes_shown(client).items()})

    assert shown == {}
