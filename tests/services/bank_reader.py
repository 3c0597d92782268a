"""The bank test's reader: the whole ledger, read again and again in one snapshot each.

Every read is one REPEATABLE READ transaction on its own connection (plain psycopg, so
it shares nothing with the application under test), and checks what must hold at every
instant, not only at the end:

- per currency, the posted balances of all accounts sum to zero, and the pending debits
  equal the pending credits (double entry: ``cash_in`` is negative by what came in);
- the money in the system (minus ``cash_in``'s posted balance) is exactly the top-ups
  recorded, it never shrinks from one read to the next, and the money paid out
  (``cash_out``'s posted balance) is exactly the payouts recorded paid;
- no bounded account (advertisers' and webmasters' money) is below zero, reservations
  included, and no pending counter is negative;
- every account's cached counters equal the sums of its transfers.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import psycopg

TOTALS = """
    SELECT currency, sum(credits_posted - debits_posted), sum(debits_pending), sum(credits_pending)
    FROM accounts GROUP BY currency
"""
EXTERNAL = """
    SELECT currency, purpose, credits_posted - debits_posted FROM accounts
    WHERE owner = 'platform' AND purpose IN ('cash_in', 'cash_out')
"""
TOPUPS = "SELECT currency, sum(amount_minor) FROM transfers WHERE id LIKE 'topup:%' GROUP BY currency"
PAID = "SELECT currency, sum(amount_minor) FROM transfers WHERE id LIKE 'payout:%:paid' GROUP BY currency"
OVERDRAWN = """
    SELECT code, credits_posted - debits_posted - debits_pending, debits_pending, credits_pending
    FROM accounts
    WHERE (bounded AND credits_posted - debits_posted - debits_pending < 0)
       OR debits_pending < 0 OR credits_pending < 0
"""
# Each account's four counters as its transfers give them (billing.check does the same).
DERIVED = """
    WITH legs AS (
        SELECT debit_account_id AS account_id, kind, amount_minor, 'debit' AS side FROM transfers
        UNION ALL
        SELECT credit_account_id, kind, amount_minor, 'credit' FROM transfers
    ),
    sums AS (
        SELECT account_id, side,
               sum(CASE WHEN kind = 'pending' THEN amount_minor
                        WHEN kind IN ('post_pending', 'void_pending') THEN -amount_minor
                        ELSE 0 END) AS pending,
               sum(CASE WHEN kind IN ('posted', 'post_pending') THEN amount_minor ELSE 0 END) AS posted
        FROM legs GROUP BY account_id, side
    )
    SELECT a.code FROM accounts a
    LEFT JOIN sums d ON d.account_id = a.id AND d.side = 'debit'
    LEFT JOIN sums c ON c.account_id = a.id AND c.side = 'credit'
    WHERE a.debits_pending <> coalesce(d.pending, 0) OR a.debits_posted <> coalesce(d.posted, 0)
       OR a.credits_pending <> coalesce(c.pending, 0) OR a.credits_posted <> coalesce(c.posted, 0)
"""


@dataclass
class Read:
    money_in: dict[str, int]
    problems: list[str] = field(default_factory=list)


def read_once(connection: psycopg.Connection, previous: Read | None) -> Read:
    with connection.transaction():  # one snapshot for every query of the read
        connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        totals = connection.execute(TOTALS).fetchall()
        external = {(cur, purpose): int(bal) for cur, purpose, bal in connection.execute(EXTERNAL)}
        topups = {cur: int(total) for cur, total in connection.execute(TOPUPS)}
        paid = {cur: int(total) for cur, total in connection.execute(PAID)}
        overdrawn = connection.execute(OVERDRAWN).fetchall()
        drifted = [code for (code,) in connection.execute(DERIVED)]
    problems = []
    for currency, posted, debits_pending, credits_pending in totals:
        if posted != 0 or debits_pending != credits_pending:
            problems.append(f"{currency}: posted sum {posted}, pending {debits_pending} vs {credits_pending}")
    money_in = {cur: -balance for (cur, purpose), balance in external.items() if purpose == "cash_in"}
    for currency in money_in.keys() | topups.keys():
        if money_in.get(currency, 0) != topups.get(currency, 0):
            problems.append(f"{currency}: {money_in.get(currency, 0)} in, top-ups {topups.get(currency, 0)}")
        if previous is not None and money_in.get(currency, 0) < previous.money_in.get(currency, 0):
            problems.append(f"{currency}: money in fell from {previous.money_in[currency]}")
    for currency in paid.keys() | {cur for cur, purpose in external if purpose == "cash_out"}:
        if external.get((currency, "cash_out"), 0) != paid.get(currency, 0):
            problems.append(f"{currency}: cash_out at {external.get((currency, 'cash_out'))}, paid {paid}")
    problems += [f"{code} at {available} (pending {dp}/{cp})" for code, available, dp, cp in overdrawn]
    problems += [f"{code}: cached counters differ from its transfers" for code in drifted]
    return Read(money_in=money_in, problems=problems)


class Reader(threading.Thread):
    """Reads until stopped; ``reads`` keeps every read."""

    def __init__(self, dsn: str, pause_seconds: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.dsn = dsn
        self.pause_seconds = pause_seconds
        self.reads: list[Read] = []
        self.failure: BaseException | None = None
        self._stop_reading = threading.Event()

    def run(self) -> None:
        try:
            with psycopg.connect(self.dsn, autocommit=True) as connection:
                connection.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
                while not self._stop_reading.is_set():
                    self.reads.append(read_once(connection, self.reads[-1] if self.reads else None))
                    time.sleep(self.pause_seconds)
        except BaseException as error:  # reported by the test
            self.failure = error

    def stop(self) -> None:
        self._stop_reading.set()
        self.join(timeout=30)

    def inconsistent(self) -> list[tuple[int, list[str]]]:
        return [(n, read.problems) for n, read in enumerate(self.reads) if read.problems]
