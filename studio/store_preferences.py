"""The user's preferences in the store: small key/value settings kept between sessions."""

from __future__ import annotations

from sqlalchemy import delete, insert, select, update

from studio.migrations import preferences_table
from studio.store_core import StoreCore


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
