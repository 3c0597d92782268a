"""Webmaster postbacks: a GET to the webmaster's tracker at each status change of a lead, from
a URL template with macros; the settings, the sends with retries, the test postback."""
