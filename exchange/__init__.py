"""The lead exchange: ``create_app()`` wires configuration, extensions,
blueprints, error handlers and commands. Nothing else happens at import."""

from __future__ import annotations

import os

from flask import Flask

from exchange.config import load_config


def create_app(overrides: dict | None = None) -> Flask:
    from exchange.bounds import IdConverter
    from exchange.openapi import UtcJSONProvider

    app = Flask(__name__, instance_path=os.environ.get("EXCHANGE_INSTANCE_PATH") or None)
    app.json = UtcJSONProvider(app)
    app.config.from_mapping(load_config(app.instance_path, overrides))
    app.url_map.converters["id"] = IdConverter
    from exchange.tracking.fastpath import ClickFastPath

    app.wsgi_app = ClickFastPath(app, app.wsgi_app)  # inside ProxyFix: clicks see the visitor's IP
    _trust_proxies(app)
    _configure_logging(app)
    _count_requests(app)
    _register_extensions(app)
    _register_blueprints(app)
    _register_template_filters(app)
    _register_error_handlers(app)
    _register_cli(app)
    _listen_to_billing(app)
    _settle_disputes_above(app)
    return app


def _trust_proxies(app: Flask) -> None:
    """Behind PROXY_HOPS reverse proxies, take the client's address, scheme
    and host from their X-Forwarded-* headers (clicks record the visitor's
    IP; tracking links use the public host)."""
    hops = app.config["PROXY_HOPS"]
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def _configure_logging(app: Flask) -> None:
    from exchange import logs

    logs.init_app(app)


def _count_requests(app: Flask) -> None:
    from exchange import metrics

    metrics.init_app(app)


def _register_extensions(app: Flask) -> None:
    from exchange import (
        models,  # noqa: F401  (register every table)
        rate_limits,
    )
    from exchange.db import configure_sqlite
    from exchange.extensions import api, csrf, db, login_manager, migrate

    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            configure_sqlite(db.engine)
    migrate.init_app(
        app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"), render_as_batch=True
    )
    from exchange.sessions import SessionsExceptClicks

    app.session_interface = SessionsExceptClicks()
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    csrf.init_app(app)
    rate_limits.init_app(app)
    api.init_app(app)
    api.spec.components.security_scheme("apiKey", {"type": "http", "scheme": "bearer"})
    api.spec.options["security"] = [{"apiKey": []}]
    _document_role_views(api)


def _document_role_views(api) -> None:
    """Views chosen by the caller's role are dumped by hand; list their schemas."""
    from exchange.leads.schemas import AdvertiserLeadSchema, WebmasterLeadSchema
    from exchange.offers.schemas import CatalogOfferSchema, OfferSchema

    for schema in (AdvertiserLeadSchema, WebmasterLeadSchema, OfferSchema, CatalogOfferSchema):
        api.spec.components.schema(schema.__name__.removesuffix("Schema"), schema=schema)


def _register_blueprints(app: Flask) -> None:
    from advertisers.api import blp as advertiser_api
    from advertisers.views import bp as advertiser_portal
    from billing.api import blp as billing_api
    from billing.payouts.api import blp as payouts_api
    from billing.statements.api import blp as statements_api
    from billing.statements.views import bp as statement_pages
    from billing.topups.api import blp as topups_api
    from billing.topups.api import webhooks as stripe_webhooks
    from exchange.accounts import self_service_views  # noqa: F401  (its pages are on accounts' bp)
    from exchange.accounts.api import blp as keys_api
    from exchange.accounts.auth import api_per_key
    from exchange.accounts.views import bp as accounts_views
    from exchange.admin.views import bp as staff_portal
    from exchange.auctions.api import blp as auctions_api
    from exchange.buying.api import blp as buy_orders_api
    from exchange.catalog.api import blp as catalog_api
    from exchange.delivery.leads.api import blp as lead_delivery_api
    from exchange.delivery.postbacks.api import blp as webmaster_postbacks_api
    from exchange.disputes.api import blp as disputes_api
    from exchange.extensions import api, csrf
    from exchange.forms.vertical import bp as vertical_forms
    from exchange.forms.views import bp as hosted_forms
    from exchange.health import bp as health
    from exchange.help import bp as help_pages
    from exchange.leads.api import blp as leads_api
    from exchange.leads.bulk.api import blp as leads_bulk_api
    from exchange.longjobs.api import blp as long_tasks_api
    from exchange.longjobs.views import bp as task_pages
    from exchange.metrics_endpoint import bp as metrics_endpoint
    from exchange.moderation.audit.api import blp as moderation_audit_api
    from exchange.moderation.fraud_review.api import blp as fraud_review_api
    from exchange.moderation.partners.api import blp as partners_api
    from exchange.moderation.reputation.api import blp as reputation_api
    from exchange.moderation.views import bp as moderator_portal
    from exchange.notifications.api import blp as notifications_api
    from exchange.offers.api import blp as offers_api
    from exchange.offers.participation.api import blp as participation_api
    from exchange.privacy.api import blp as privacy_api
    from exchange.privacy.views import bp as privacy_pages
    from exchange.quality.api import blp as quality_api
    from exchange.reports.api import blp as reports_api
    from exchange.selling.api import blp as selling_api
    from exchange.statements.api import blp as offer_statements_api
    from exchange.statements.views import bp as offer_statement_pages
    from exchange.tracking.conversions.api import blp as postback_api
    from exchange.tracking.conversions.views import bp as conversion_postback
    from exchange.tracking.views import bp as tracking
    from exchange.verticals.api import blp as verticals_api
    from webmasters.api import blp as webmaster_api
    from webmasters.views import bp as webmaster_portal

    apis = (
        offers_api,
        leads_api,
        keys_api,
        billing_api,
        advertiser_api,
        webmaster_api,
        participation_api,
        postback_api,
        webmaster_postbacks_api,
        lead_delivery_api,
        leads_bulk_api,
        topups_api,
        notifications_api,
        payouts_api,
        statements_api,
        offer_statements_api,
        disputes_api,
        partners_api,
        fraud_review_api,
        reputation_api,
        moderation_audit_api,
        reports_api,
        long_tasks_api,
        verticals_api,
        buy_orders_api,
        selling_api,
        auctions_api,
        catalog_api,
        quality_api,
        privacy_api,
    )
    for blueprint in apis:
        csrf.exempt(blueprint)  # API calls carry a key, not a session cookie
        api_per_key(blueprint)
        api.register_blueprint(blueprint)
    for blueprint in (
        accounts_views,
        advertiser_portal,
        webmaster_portal,
        staff_portal,
        privacy_pages,
        moderator_portal,
        statement_pages,
        offer_statement_pages,
        task_pages,
        tracking,
        hosted_forms,
        vertical_forms,
        conversion_postback,
        stripe_webhooks,
        health,
        help_pages,
        metrics_endpoint,
    ):
        app.register_blueprint(blueprint)
    if app.config["EXCHANGE_ENV"] != "production":
        from exchange.demo_buyer import bp as demo_buyer

        app.register_blueprint(demo_buyer)
        csrf.exempt(demo_buyer)  # the demo's own buyer, pinged server to server
    csrf.exempt(tracking)  # GET only, no session: nothing to forge
    csrf.exempt(conversion_postback)  # server to server, authenticated by the postback token
    csrf.exempt(stripe_webhooks)  # server to server, authenticated by Stripe's signature


def _register_template_filters(app: Flask) -> None:
    from exchange.money import format_bps, format_minor
    from exchange.words import explanation, word

    app.add_template_filter(format_minor, "minor")
    app.add_template_filter(format_bps, "bps")
    app.add_template_global(word)  # codes as words for people (exchange/words.py)
    app.add_template_global(explanation)
    from exchange.page_names import offer_name, user_name, vertical_name

    for name_of in (user_name, offer_name, vertical_name):  # names in place of ids
        app.add_template_global(name_of)

    @app.template_filter("when")
    def when(value) -> str:
        return value.strftime("%Y-%m-%d %H:%M") if value else ""

    @app.context_processor
    def navigation() -> dict:
        from flask import has_request_context, request
        from flask_login import current_user

        from exchange.navigation import locate

        if not has_request_context():
            return {}
        role = current_user.role if current_user.is_authenticated else None
        return {"nav": locate(role, request.endpoint)}


def _register_error_handlers(app: Flask) -> None:
    from exchange.errors import register_error_handlers
    from exchange.security_headers import register_security_headers

    register_error_handlers(app)
    register_security_headers(app)


def _settle_disputes_above(app: Flask) -> None:
    """Disputes know leads; a sale's return is settled by the sale's feature
    (exchange/disputes/subjects.py)."""
    from exchange.buying.returns import register_sale_returns

    register_sale_returns(app)


def _listen_to_billing(app: Flask) -> None:
    """Billing is below the marketplace: it announces money events (billing/events.py), the
    features act on them, and the lead invariants join its ledger check."""
    from billing.check import add_invariant
    from billing.events import on_funds_changed
    from exchange.buying import ledger_check as sales_check
    from exchange.leads import ledger_check
    from exchange.leads.funding import fund_when_money_arrives
    from exchange.notifications.services import tell_of_money
    from exchange.offers.funding import align_when_money_is_taken_back

    for listener in (tell_of_money, fund_when_money_arrives, align_when_money_is_taken_back):
        on_funds_changed(app, listener)
    add_invariant(app, ledger_check.NAME, ledger_check.leads_charged_as_their_status_says)
    add_invariant(app, sales_check.NAME, sales_check.sales_charged_as_their_status_says)


def _register_cli(app: Flask) -> None:
    from exchange.cli import register_cli

    register_cli(app)
