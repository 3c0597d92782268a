"""The webmaster's API keys (``exchange.accounts.key_pages``): what its servers send leads
and read its balance with, made here rather than by an administrator's command."""

from exchange.accounts.key_pages import add_key_pages
from webmasters.views.common import bp

add_key_pages(bp, "webmaster")
