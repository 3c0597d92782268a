"""Statements that need the marketplace: an advertiser's invoices (the month's charges and
returns per offer) and the platform's revenue (its margin by offer, webmaster or day). Both
read billing's transfers and join them to the leads and offers they were for, which billing
itself never knows; an account's statement (every transfer, running balances) is billing's
own (billing/statements/)."""
