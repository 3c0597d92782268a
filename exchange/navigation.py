"""Where each role's pages are: one tree per role, drawn by base.html in two levels.

The header lists the role's sections; under it, the section the page belongs to
lists its pages (when it has more than one). Each page is listed once, so the two
levels never repeat a link. A page without a link of its own (an offer's edit
page, a dispute's thread) belongs to the section that names its endpoint in
``owns``. Pure data and lookups: no Flask here (base.html gets ``locate``'s answer
from a context processor in exchange/__init__.py; a test checks every endpoint
named here exists).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    label: str
    endpoint: str


@dataclass(frozen=True)
class Section:
    label: str
    pages: tuple[Page, ...]
    owns: tuple[str, ...] = ()  # endpoints of the section's pages that have no link of their own

    @property
    def endpoint(self) -> str:
        return self.pages[0].endpoint

    def holds(self, endpoint: str | None) -> bool:
        return endpoint in self.owns or any(page.endpoint == endpoint for page in self.pages)


STATEMENTS = Page("Statements", "statement_pages.statement")
TASKS = Page("Tasks", "tasks.tasks")  # exports and imports running as jobs, with their progress
MODERATION_PAGES = (
    Page("Dispute queue", "moderator_portal.home"),
    Page("Partners", "moderator_portal.partners_page"),
    Page("Fraud review", "moderator_portal.fraud_reviews"),
    Page("Reputation", "moderator_portal.reputation"),
    Page("Audit log", "moderator_portal.audit"),
    Page("Lead events", "moderator_portal.lead_events"),
)
MODERATION_OWNS = ("moderator_portal.dispute",)

TREES: dict[str, tuple[Section, ...]] = {
    "advertiser": (
        Section(
            "Dashboard",
            (
                Page("Dashboard", "advertiser_portal.home"),
                Page("Reports", "advertiser_portal.reports"),
                TASKS,
            ),
            ("tasks.task",),
        ),
        Section(
            "Offers",
            (Page("Offers", "advertiser_portal.offers"),),
            ("advertiser_portal.new_offer", "advertiser_portal.offer"),
        ),
        Section(
            "Leads",
            (
                Page("Leads", "advertiser_portal.leads"),
                Page("Disputes", "advertiser_portal.disputes"),
                Page("Import decisions", "tasks.leads_import"),
            ),
            ("advertiser_portal.lead", "advertiser_portal.dispute"),
        ),
        Section(
            "Exchange",
            (
                Page("Buy orders", "advertiser_portal.buy_orders"),
                Page("Catalog", "advertiser_portal.catalog"),
                Page("Purchases", "advertiser_portal.purchases"),
            ),
        ),
        Section("Delivery", (Page("Delivery", "advertiser_portal.delivery"),)),
        Section(
            "Money",
            (
                Page("Billing", "advertiser_portal.billing"),
                Page("Top-ups", "advertiser_portal.topup"),
                STATEMENTS,
                Page("Invoices", "offer_statements.invoices"),
            ),
            ("offer_statements.invoice",),
        ),
        Section("API keys", (Page("API keys", "advertiser_portal.keys"),)),
    ),
    "webmaster": (
        Section(
            "Dashboard",
            (
                Page("Dashboard", "webmaster_portal.home"),
                Page("Reports", "webmaster_portal.reports"),
                TASKS,
            ),
            ("tasks.task",),
        ),
        Section("Offers", (Page("Offers", "webmaster_portal.catalog"),), ("webmaster_portal.offer_page",)),
        Section(
            "Leads",
            (
                Page("Leads", "webmaster_portal.leads"),
                Page("Disputes", "webmaster_portal.disputes"),
            ),
            ("webmaster_portal.dispute",),
        ),
        Section(
            "Exchange",
            (
                Page("Verticals", "webmaster_portal.verticals"),
                Page("Submissions", "webmaster_portal.submissions"),
                Page("Catalog", "webmaster_portal.listings"),
            ),
        ),
        Section(
            "Postbacks",
            (Page("Postbacks", "webmaster_portal.postbacks"),),
            ("webmaster_portal.offer_postback",),
        ),
        Section("Money", (Page("Payouts", "webmaster_portal.payouts"), STATEMENTS)),
        Section("API keys", (Page("API keys", "webmaster_portal.keys"),)),
    ),
    "moderator": tuple(
        Section(page.label, (page,), MODERATION_OWNS if page.endpoint == "moderator_portal.home" else ())
        for page in MODERATION_PAGES
    ),
    "admin": (
        Section(
            "Administration",
            (
                Page("Overview", "staff_portal.admin"),
                Page("Users", "staff_portal.users"),
                Page("Credits", "staff_portal.credits"),
                Page("Payouts", "staff_portal.payouts"),
                Page("Ledger check", "staff_portal.ledger"),
                Page("Failed jobs", "staff_portal.admin_jobs"),
                Page("Privacy", "privacy_pages.privacy"),
            ),
        ),
        Section(
            "Reports",
            (
                Page("Reports", "staff_portal.reports"),
                Page("Revenue", "offer_statements.revenue"),
                STATEMENTS,
                TASKS,
            ),
            ("tasks.task",),
        ),
        Section(
            "Exchange",
            (
                Page("Verticals", "staff_portal.verticals"),
                Page("Auction log", "staff_portal.auctions"),
                Page("Catalog", "staff_portal.catalog"),
            ),
            ("staff_portal.auction",),
        ),
        Section("Moderation", MODERATION_PAGES, MODERATION_OWNS),
    ),
}


@dataclass(frozen=True)
class Located:
    sections: tuple[Section, ...]  # the header's
    current: Section | None  # the section the page belongs to: its pages are the second level


def locate(role: str | None, endpoint: str | None) -> Located:
    """The role's sections and the one holding ``endpoint`` (None: a page of no section)."""
    sections = TREES.get(role or "", ())
    return Located(sections, next((section for section in sections if section.holds(endpoint)), None))
