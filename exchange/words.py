"""Words for people: every code a person may meet on a page (a lead's status and reasons,
a finding, a move in a lead's history, a dispute's kind, reason, status and outcome, a
sale's status, a bid's fate, a check of the ledger), each with a short text to show and a
longer explanation (on hover, and all of them at ``/help/words``). Pure.

Codes stay what they are in the API, postbacks and machine CSV columns; pages and files
meant for people show these words, with the code kept for whoever needs it. This is the
one place the texts are written: the features' own lists (``exchange.leads.reasons``,
``exchange.disputes.domain``) are read from here, and ``tests/unit/test_words.py`` checks
that every code the features use has its words.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Words:
    short: str
    long: str


def _kind(**codes: tuple[str, str]) -> dict[str, Words]:
    return {code: Words(*texts) for code, texts in codes.items()}


CATALOGUE: dict[str, dict[str, Words]] = {
    "lead_status": _kind(
        received=("Received", "Taken in; validation has not decided yet."),
        pending=(
            "Pending review",
            "Validated and accepted: its price is reserved, the advertiser reviews it.",
        ),
        awaiting_funds=("Awaiting funds", "Valid, but the advertiser's balance does not cover it yet."),
        rejected=(
            "Rejected",
            "Refused by validation, by the advertiser, or by a moderator; nothing is paid.",
        ),
        approved=(
            "Approved",
            "Accepted: the advertiser is charged and the webmaster's payout is held, then paid.",
        ),
        returned=("Returned", "Approved, then sent back within the return window: the money went back."),
        review=("In fraud review", "Validation flagged it: a moderator decides before anything is reserved."),
        for_sale=("For sale", "An exchange lead validation accepted: its auction is due."),
        sold=("Sold", "Sold on the exchange, to one buyer or shared between a few."),
        unsold=("Unsold", "No buyer took it at auction: it waits in the catalog of ready leads."),
    ),
    "lead_action": _kind(
        submit=("Submitted", "The webmaster sent it in (by the API, a hosted form or a ping-post)."),
        accept=("Accepted", "Validation accepted it and reserved its price."),
        reject_invalid=(
            "Rejected by validation",
            "A check of validation refused it (its reasons say which).",
        ),
        wait_for_funds=(
            "Waiting for funds",
            "Valid, but the balance did not cover it: it waits for a top-up.",
        ),
        fund=("Funded", "A top-up covered it: its price is reserved now."),
        approve=("Approved", "The advertiser approved it."),
        auto_approve=("Approved automatically", "The review window ended without a decision: approved."),
        reject=("Rejected", "The advertiser rejected it in its review window."),
        hold_for_review=("Held for fraud review", "Validation flagged it for a moderator's look."),
        clear=("Cleared by a moderator", "A moderator found nothing wrong: it went on to the advertiser."),
        reject_fraud=("Rejected for fraud", "A moderator rejected it after the fraud review."),
        reinstate=("Reinstated on appeal", "The webmaster's appeal was upheld: the rejection was undone."),
        offer_for_sale=("Offered for sale", "Accepted on the exchange: put up for auction."),
        sell=("Sold", "Its auction sold it."),
        leave_unsold=("Left unsold", "Its auction found no buyer: it went to the catalog."),
        sell_from_catalog=("Sold from the catalog", "A buyer bought a slot of it from the catalog."),
        **{
            "return": ("Returned", "The advertiser returned it after approving it, within the return window.")
        },
    ),
    "reason": _kind(
        schema_invalid=("Missing or wrong field", "A field is missing or not of the offer's type."),
        duplicate=("Duplicate", "The same phone or email reached this offer within its duplicate window."),
        geo_mismatch=(
            "Wrong country",
            "The lead's country, its IP's or its phone's is not one the offer accepts.",
        ),
        offer_paused=("Offer paused", "The offer was not taking leads when the lead was validated."),
        cap_reached=(
            "Cap reached",
            "The offer's daily or monthly cap (in all, or for this webmaster) was full.",
        ),
        amount_too_small=(
            "Sale too small",
            "The reported sale is too small for its share to pay the webmaster anything.",
        ),
        invalid_phone=(
            "Invalid phone",
            "The phone cannot be a number (rejected), or is in no range known in use (flag).",
        ),
        invalid_email=("Invalid email", "The email address is not well-formed."),
        disposable_email=("Throwaway email", "The email address is at a throwaway-address provider."),
        click_not_found=("Unknown click", "The click id does not belong to this webmaster and offer."),
        click_expired=("Click too old", "The click is older than the offer's attribution window."),
        click_too_fast=(
            "Too fast after the click",
            "The lead came sooner after its click than the offer's minimum (flag).",
        ),
        ip_velocity=(
            "Too many from one IP",
            "More leads from this IP within an hour than the offer allows (flag).",
        ),
        bot_user_agent=(
            "Robot's browser",
            "A crawler's or automation tool's user agent (rejected), or none at all (flag).",
        ),
        below_min_temperature=(
            "Too cold",
            "The lead's score is colder than the offer's minimum temperature.",
        ),
        advertiser_rejected=(
            "Rejected by the advertiser",
            "The advertiser rejected the lead during its review window.",
        ),
        webmaster_banned=(
            "Webmaster banned",
            "A moderator banned the webmaster before the lead was validated.",
        ),
        fraud_review_rejected=(
            "Rejected in fraud review",
            "A moderator rejected the lead that validation held for fraud review.",
        ),
    ),
    "score_part": _kind(
        fields_complete=("Fields filled", "Share of the offer's fields filled in."),
        click_to_lead=("Time from the click", "Time from the click to the lead."),
        phone_type=("Phone line", "The phone's line type."),
        source_history=("Source's record", "The webmaster's approval rate with this advertiser."),
    ),
    "phone_type": _kind(
        mobile=("Mobile", "A mobile number."),
        fixed_line=("Landline", "A fixed line."),
        fixed_or_mobile=("Landline or mobile", "The number's range is used for both."),
        voip=("Internet phone", "A VoIP number."),
        toll_free=("Toll-free", "A toll-free number."),
        premium_rate=("Premium rate", "A premium-rate number."),
        shared_cost=("Shared cost", "A shared-cost number."),
        personal_number=("Personal number", "A personal (forwarding) number."),
        pager=("Pager", "A pager's number."),
        uan=("Company number", "A universal access number of a company."),
        voicemail=("Voicemail", "A voicemail access number."),
        unknown=("Unknown", "A valid number whose line type is not known."),
    ),
    "dispute_kind": _kind(
        appeal=("Appeal", "A webmaster asks for a rejected lead to be reinstated."),
        **{"return": ("Return", "An advertiser asks to return an approved lead and get its price back.")},
        sale_return=("Sale return", "A buyer on the exchange asks to return a lead it bought."),
    ),
    "appeal_reason": _kind(
        contact_valid=(
            "The contact is real",
            "The phone or email reaches the person who filled in the form.",
        ),
        consent_recorded=("Consent on record", "The person asked to be contacted; the consent is on record."),
        not_duplicate=("Not a duplicate", "The lead is not a duplicate of one the advertiser already had."),
        meets_terms=(
            "Meets the terms",
            "The lead meets the offer's terms (country, fields, traffic source).",
        ),
        other=("Other", "Another reason, explained in the statement."),
    ),
    "return_reason": _kind(
        invalid_contact=(
            "Contact does not work",
            "The phone or email does not reach the person (wrong, disconnected, fake).",
        ),
        did_not_request=("Never asked", "The person says they never asked to be contacted."),
        duplicate=("Duplicate", "The advertiser already had this person from another source."),
        out_of_area=("Out of area", "The person is outside the area the offer serves."),
        underage=("Under age", "The person is under the offer's minimum age."),
        fraud=("Fraud", "The lead was generated or filled in by a bot or by someone other than the person."),
        other=("Other", "Another reason, explained in the statement."),
    ),
    "sale_return_reason": _kind(
        wrong_number=("Wrong number", "The phone does not reach the consumer (wrong, disconnected, fake)."),
        duplicate=("Duplicate", "The buyer already had this consumer from another source."),
        not_the_consumer=("Not the consumer", "The person reached says they did not fill in the form."),
        no_consent=("No consent", "The consumer did not agree to be contacted, or the consent is missing."),
        outside_filters=(
            "Outside the filters",
            "The lead is outside the buyer's filters (area, age, fields) it bought with.",
        ),
    ),
    "dispute_status": _kind(
        awaiting_answer=(
            "Waiting for an answer",
            "The other party has until the deadline to concede or contest.",
        ),
        escalated=("With the moderators", "Contested, or not answered in time: a moderator decides."),
        resolved=("Decided", "Settled: by the other party conceding, a moderator, or an automatic rule."),
        withdrawn=("Withdrawn", "The claimant took it back; nothing changed."),
    ),
    "dispute_outcome": _kind(
        upheld=(
            "Upheld",
            "What the advertiser or buyer did or asked stands: a rejection stays, a return goes through.",
        ),
        overturned=(
            "Overturned",
            "What the advertiser or buyer did or asked is undone: a lead is reinstated, a return refused.",
        ),
    ),
    "sale_status": _kind(
        pending=("In review", "Bought; the buyer reviews it, and its price is reserved."),
        approved=("Approved", "The buyer kept it: charged, and the seller's payout held, then paid."),
        rejected=("Rejected", "The buyer rejected it in its review window: nothing is charged."),
        returned=("Returned", "Returned after approval: the money went back."),
        voided=("Voided", "Undone before it was charged: nothing was charged."),
    ),
    "bid": _kind(
        floor=("Under the floor", "The bid was below the vertical's floor price."),
        cost=("Under the cost", "The bid would not cover the seller's payout and the margin."),
        outbid=("Outbid", "Another buyer bid more for the slot."),
        same_buyer=("Same buyer", "The buyer already had a slot of this lead, or this consumer."),
        answered=("Answered", "The buyer's endpoint answered the ping with a price."),
        no_bid=("Declined", "The buyer's endpoint answered that it does not bid."),
        timed_out=("Too slow", "The buyer's endpoint did not answer before the auction's deadline."),
        error=("Failed", "The buyer's endpoint could not be reached, or answered an error."),
        invalid=("Unreadable answer", "The buyer's endpoint answered something that is not a bid."),
    ),
    "escalated_because": _kind(
        contested=("Contested", "The other party disagreed: the moderators decide."),
        no_answer=("No answer in time", "The other party did not answer before the deadline."),
    ),
    "transfer_kind": _kind(
        pending=("Reserved", "Set aside for a lead or payout: not posted yet."),
        posted=("Posted", "Moved for good."),
        post_pending=("Reservation posted", "A reserved amount moved for good."),
        void_pending=("Reservation released", "A reserved amount given back: nothing moved."),
    ),
    "audit_action": _kind(
        decide_dispute=("Decided a dispute", "A moderator upheld or refused a dispute."),
        post_dispute_message=("Wrote in a dispute", "A moderator wrote in a dispute's thread."),
        approve_webmaster=("Approved a webmaster", "A new webmaster may now join offers and send traffic."),
        ban_webmaster=("Banned a webmaster", "Its links and leads are stopped."),
        unban_webmaster=("Unbanned a webmaster", "It may send traffic again."),
        clear_flagged_lead=("Cleared a flagged lead", "Fraud review found nothing wrong."),
        reject_flagged_lead=("Rejected a flagged lead", "Fraud review rejected it."),
        deactivate_user=("Deactivated a user", "It can no longer sign in or use its keys."),
        reactivate_user=("Reactivated a user", "It can sign in again."),
        approve_participation=("Approved a participation", "The webmaster may send traffic to the offer."),
        decline_participation=(
            "Declined a participation",
            "The webmaster may not send traffic to the offer.",
        ),
        ban_participation=("Banned from an offer", "The webmaster's traffic to the offer is stopped."),
        set_custom_payout=("Set a custom payout", "The webmaster's own payout on the offer."),
    ),
    "check": _kind(
        balanced_per_currency=(
            "Every currency balances",
            "Each transfer debits what it credits, in one currency.",
        ),
        no_negative_balances=("No balance below zero", "No account that may not go negative has."),
        debts_never_overpaid=("Debts never overpaid", "An advertiser's debt is repaid at most what it owes."),
        cached_balances_match_transfers=(
            "Balances match the transfers",
            "Each account's stored balance equals the sum of its transfers.",
        ),
        pending_resolved_at_most_once=(
            "Reservations settled once",
            "A reserved amount is posted or voided at most once.",
        ),
        transfers_within_one_currency=(
            "No currency mixed",
            "A transfer's two accounts are of the same currency as the transfer.",
        ),
        leads_charged_as_their_status_says=(
            "Leads charged as their status says",
            "An approved lead is charged, a rejected one is not, a returned one is paid back.",
        ),
        sales_charged_as_their_status_says=(
            "Sales charged as their status says",
            "An approved sale is charged, a rejected or voided one is not, a returned one is paid back.",
        ),
    ),
}

# what /help/words calls each kind, in its order
TITLES = {
    "lead_status": "A lead's status",
    "reason": "Why a lead was rejected or flagged",
    "score_part": "The parts of a lead's score",
    "phone_type": "Phone lines",
    "lead_action": "What happened to a lead",
    "dispute_kind": "Disputes",
    "appeal_reason": "Why a webmaster appeals",
    "return_reason": "Why an advertiser returns a lead",
    "sale_return_reason": "Why a buyer returns a sale",
    "dispute_status": "A dispute's status",
    "dispute_outcome": "How a dispute ended",
    "escalated_because": "Why a dispute went to the moderators",
    "sale_status": "A sale's status",
    "bid": "A bid in an auction",
    "transfer_kind": "Money moves",
    "check": "The ledger's checks",
    "audit_action": "What moderators and admins did",
}

# a lead's findings: each a check's reason or a part of its score
CATALOGUE["finding"] = {**CATALOGUE["reason"], **CATALOGUE["score_part"]}


def word(kind: str, code: str | None) -> str:
    """The short text of ``code``; the code itself when it has none (never an error)."""
    if code is None:
        return ""
    found = CATALOGUE.get(kind, {}).get(code)
    return found.short if found else code


def explanation(kind: str, code: str | None) -> str:
    found = CATALOGUE.get(kind, {}).get(code or "")
    return found.long if found else ""


def explanations(kind: str) -> dict[str, str]:
    """Each code of ``kind`` with its explanation (what the features' lists are)."""
    return {code: words.long for code, words in CATALOGUE[kind].items()}
