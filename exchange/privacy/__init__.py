"""Consumers' personal data (docs/privacy.md): keyed hashes of their contacts, retention
periods that the sweep enforces on decided leads, erasure on request (by email or phone)
everywhere their data is kept, the record of erasures, and the export of what we hold."""
