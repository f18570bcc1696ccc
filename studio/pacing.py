"""How often and how fast the worker talks to a vendor: the status-call cadence, the backoff
between retries, and the submit rate per provider. Pure arithmetic on an injected clock and
random source, so the worker's tests can pin time. The submit-rate bucket itself lives in the
database (`vendor_pacing`, `studio.store_claims`), shared by every worker process and machine;
`refill` is its arithmetic."""

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


def bucket_capacity(rate: float) -> float:
    """The burst a submit rate allows: max(1, rate) tokens."""
    if rate <= 0:
        raise ValueError(f"submit rate must be positive, got {rate}")
    return max(1.0, rate)


def refill(tokens: float, updated_s: float, now_s: float, rate: float) -> tuple[float, float]:
    """A token bucket's (tokens, updated) at `now_s`: `rate` tokens per second up to its capacity.
    The time never moves back, so a worker whose clock is behind cannot mint tokens."""
    if now_s <= updated_s:
        return tokens, updated_s
    return min(bucket_capacity(rate), tokens + (now_s - updated_s) * rate), now_s
