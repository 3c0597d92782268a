"""Every model, imported in one place so that metadata and migrations see them all."""

from billing.models import Account, Transfer
from billing.payouts.models import Payout
from billing.topups.models import StripeEvent, Topup
from exchange.accounts.models import ApiKey, User
from exchange.auctions.models import Auction, AuctionBid
from exchange.buying.models import BuyOrder, ConsumerLock, Sale
from exchange.catalog.models import CatalogListing
from exchange.delivery.leads.models import DeliverySetting, LeadDelivery, LeadDeliveryAttempt
from exchange.delivery.postbacks.models import PostbackAttempt, PostbackDelivery, PostbackUrl
from exchange.disputes.models import Dispute, DisputeMessage
from exchange.leads.models import Consent, Lead, LeadEvent
from exchange.longjobs.models import LongTask
from exchange.moderation.audit.models import ModerationAction
from exchange.notifications.models import Notification
from exchange.offers.models import Offer, Participation
from exchange.privacy.models import Erasure
from exchange.quality.models import BuyerStanding, SellerQuality
from exchange.reports.models import ReportChange, ReportDaily, ReportHourly
from exchange.selling.models import SellerPing
from exchange.tracking.models import Click, PostbackToken
from exchange.verticals.models import Vertical, VerticalSeller

__all__ = [
    "Account",
    "ApiKey",
    "Auction",
    "AuctionBid",
    "BuyOrder",
    "BuyerStanding",
    "CatalogListing",
    "Click",
    "Consent",
    "ConsumerLock",
    "DeliverySetting",
    "Dispute",
    "DisputeMessage",
    "Erasure",
    "Lead",
    "LeadDelivery",
    "LeadDeliveryAttempt",
    "LeadEvent",
    "LongTask",
    "ModerationAction",
    "Notification",
    "Offer",
    "Participation",
    "Payout",
    "PostbackAttempt",
    "PostbackDelivery",
    "PostbackToken",
    "PostbackUrl",
    "ReportChange",
    "ReportDaily",
    "ReportHourly",
    "Sale",
    "SellerQuality",
    "SellerPing",
    "StripeEvent",
    "Topup",
    "Transfer",
    "User",
    "Vertical",
    "VerticalSeller",
]
