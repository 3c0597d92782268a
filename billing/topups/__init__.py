"""Money in: card top-ups (a PaymentIntent each, credited only from Stripe's verified webhook),
the Stripe gateway and its signature check, refunds and disputes that take money back
(``takebacks``) and the debt they leave (``debts``), and reconciliation against Stripe."""
