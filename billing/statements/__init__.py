"""What the ledger says, read back for people: statements per account and month
(``services``), advertiser invoices, the platform's revenue report; ``domain`` holds the
pure rules, ``api``, ``views`` and ``csv_rows`` present them."""
