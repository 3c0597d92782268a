"""What the ledger says, read back for people: statements per account and month
(``services``); ``domain`` holds the pure rules, ``api``, ``views`` and ``csv_rows`` present
them. Invoices and the revenue report join transfers to leads and offers, so they live
above billing, in exchange/statements/."""
