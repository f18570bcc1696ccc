"""How often and how fast the worker talks to a vendor: the status-call cadence, the backoff
between retries, and the submit rate per provider. Pure arithmetic on an injected clock and
random source, so the worker's tests can pin time."""

from __future__ import annotations

import random

# The floor for a status-call interval: a configured 0.1 s is honoured, a zero cannot spin.
MIN_POLL_S = 0.05
MAX_POLL_S = 30.0
BACKOFF_BASE_S = 2.0
BACKOFF_CAP_S = 300.0


def poll_delay(hint_s: float, elapsed_s: float) -> float:
    """Seconds until the next status call: the vendor's hint, stretched 1.5x per minute of waiting."""
    base = max(hint_s, MIN_POLL_S)
    stretched = base * 1.5 ** min(5, max(0, int(elapsed_s // 60)))
    return min(stretched, max(base, MAX_POLL_S))


def retry_delay(attempt: int, retry_after_s: float | None, rng: random.Random) -> float:
    """Exponential backoff with jitter, never sooner than the vendor's Retry-After."""
    backoff = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** max(0, attempt - 1))
    # Jitter spreads retries from many jobs that failed together (e.g. one throttling burst).
    return max(retry_after_s or 0.0, backoff * rng.uniform(0.5, 1.0))


class TokenBucket:
    """Submit-rate limit per provider on the injected clock: `rate` tokens per second, burst of max(1, rate)."""

    def __init__(self, rate: float) -> None:
        if rate <= 0:
            raise ValueError(f"submit rate must be positive, got {rate}")
        self.rate = rate
        self.capacity = max(1.0, rate)
        self.tokens = self.capacity
        self._updated: float | None = None

    def _refill(self, now: float) -> None:
        if self._updated is not None and now > self._updated:
            self.tokens = min(self.capacity, self.tokens + (now - self._updated) * self.rate)
        self._updated = now if self._updated is None else max(self._updated, now)

    def available(self, now: float) -> bool:
        self._refill(now)
        return self.tokens >= 1.0

    def take(self, now: float) -> None:
        self._refill(now)
        self.tokens -= 1.0
