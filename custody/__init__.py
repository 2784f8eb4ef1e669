"""patent-custody: the domain core (CNIPA fee rules, reminders policy, legal-status vocabulary, storage)."""

__version__ = "0.1.0"
