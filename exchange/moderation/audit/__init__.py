"""The moderators' append-only audit log: recording each action, reading and exporting it."""
