"""Outbound calls: webmaster postbacks (``postbacks/``) and lead delivery to advertisers
(``leads/``), with what both share at the top: claim-then-send (``attempts``), the HTTP
sender, the test sends' log (``sample_sends``), the retry schedule (``domain``)."""
