"""The error of a configuration that cannot be used, apart from custody.config so that the settings modules it
reads (custody.reminder_settings, custody.ops_schedule) can raise it without importing the reader: one-way imports.
"""
from __future__ import annotations

from custody.explained import Explained


class ConfigError(Explained, ValueError):
    """The configuration cannot be used; the message names the file and key."""
