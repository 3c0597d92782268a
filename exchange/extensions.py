"""Extensions, unbound; ``create_app`` binds them with ``init_app``."""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData

from exchange.openapi import ExchangeApi

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
api = ExchangeApi()  # documents our error shape on every operation
# Counters of the limits on abuse (exchange.rate_limits); storage and windows come from config.
limiter = Limiter(
    key_func=get_remote_address,  # unused: every limit names its own key
    strategy="sliding-window-counter",
    headers_enabled=True,
    fail_on_first_breach=False,  # every window is checked: Retry-After is the longest wait
    key_prefix="limits",
    swallow_errors=True,  # a lost Redis must not stop sign-ins and leads: counted in memory meanwhile
    in_memory_fallback_enabled=True,
)
