"""One error root for the application layer.

```
StudioError(message, code, params)
├── StudioInputError      a job request that cannot run: bad input, option, provider (ValueError)
├── BackdropError         a backdrop request that cannot be done (ValueError)
├── BatchError            a batch action that cannot be done (ValueError)
├── UsageError            bad command-line input (studio.cli)
└── BatchUsageError       bad input for batch/export (studio.cli_batch)
```

`code` is a stable key: pages translate `error.<code>` through the string table
with `params`, and fall back to `str(exc)`, a complete English sentence saying
what is wrong and what to do (the CLI prints it). A subclass that passes only a
message gets its class's `default_code`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class StudioError(Exception):
    """Base of every studio failure: `code` for `error.<code>`, `params` for its template."""

    default_code = "studio_error"

    def __init__(
        self, message: str = "", code: str | None = None, params: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.code: str = code or self.default_code
        self.params: dict[str, Any] = dict(params or {})


class StudioInputError(StudioError, ValueError):
    """Bad input for a job (from imaging.images.ImageInputError or a parameter check)."""

    default_code = "bad_input"

    def __init__(self, code: str, message: str, params: Mapping[str, Any] | None = None) -> None:
        super().__init__(message, code, params)
