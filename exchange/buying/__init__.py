"""Buying on the exchange: buy orders (filters, schedule, caps, a fixed bid or a ping
URL), the sales they make, and the register of sales that keeps exclusivity true."""
