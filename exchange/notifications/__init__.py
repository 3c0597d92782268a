"""Messages to users from the exchange (an offer paused for funds, a dispute decided, money
taken back, ...): an outbox each user reads in the API and on its portal page."""
