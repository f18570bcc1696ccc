"""The user's preferences in the store: small key/value settings kept between sessions.

Some are one person's (the language they read): `personal_key` gives them a key of
their own, so one person's choice never becomes everyone else's default.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import delete, insert, select, update

from studio.migrations import preferences_table
from studio.store_core import StoreCore

MAX_KEY_CHARS = 128  # preferences.key is String(128)


def personal_key(name: str, person_key: str) -> str:
    """The preference key for one person's `name` ("language" -> "language:ana@shop.com"); a very
    long address is replaced by its digest so the key fits the column (128 characters)."""
    who = person_key.strip().lower() or "local"
    key = f"{name}:{who}"
    if len(key) <= MAX_KEY_CHARS:
        return key
    return f"{name}:sha256:{hashlib.sha256(who.encode('utf-8')).hexdigest()}"


class PreferenceStore(StoreCore):
    """Key/value preferences (last choices on the pages)."""

    # ------------------------------------------------------------ preferences
    def get_preference(self, key: str) -> str | None:
        with self._read() as conn:
            value = conn.execute(
                select(preferences_table.c.value).where(preferences_table.c.key == key)
            ).scalar()
            return None if value is None else str(value)

    def set_preference(self, key: str, value: str) -> None:
        with self._write() as conn:
            result = conn.execute(
                update(preferences_table).where(preferences_table.c.key == key).values(value=value)
            )
            if result.rowcount == 0:
                conn.execute(insert(preferences_table).values(key=key, value=value))

    def delete_preference(self, key: str) -> None:
        with self._write() as conn:
            conn.execute(delete(preferences_table).where(preferences_table.c.key == key))
