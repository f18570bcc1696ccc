"""How often and how fast the worker talks to a vendor: the status-call cadence (faster when a
task is due to finish), the backoff between retries, and the submit rate per provider. Pure
arithmetic on an injected clock and random source, so the worker's tests can pin time.

The submit rate is kept as strictly as a vendor that allows at most N submits in any sliding
second counts it, at arrival: a submit goes no sooner than 1 s + `WINDOW_MARGIN_S` after the
N-th submit before it, so any second holds at most N of them even when each arrives a few ms
late. Unlike evenly spaced submits, this lets a submit that had to wait (all the vendor's slots
busy) be followed at once by the next, as the vendor's rule allows, instead of losing that time
for good. The last N moments reserved live in the database (`vendor_pacing.recent_sends`,
`studio.store_claims`), shared by every worker process and machine; `reserve_send` is their
arithmetic."""

from __future__ import annotations

import random
from collections.abc import Sequence

# The floor for a status-call interval: a configured 0.1 s is honoured, a zero cannot spin.
MIN_POLL_S = 0.05
# Near a task's usual finish the cadence is this fraction of the normal one (never below
# NEAR_DUE_MIN_S): a finished task is found sooner, for a few more status calls per task.
NEAR_DUE_FACTOR = 0.25
NEAR_DUE_MIN_S = 0.02
# Task durations vary: "near" is from this much before the usual duration to this much after.
NEAR_DUE_FROM = 0.75
NEAR_DUE_UNTIL = 1.5
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


# Slots that allow less than this much more than the submit rate still fill up now and then:
# task times vary (+-20 % is common) and a slot stays held until its task is seen done.
SLOT_HEADROOM = 1.25


def slot_bound(in_flight: int, typical_s: float | None, submit_qps: float | None) -> bool:
    """True when a provider's in-flight slots, not its submit rate, set its pace, or nearly do
    (less than `SLOT_HEADROOM` over the rate): only then does finding a finished task sooner let
    the next submit go sooner. Elsewhere the faster cadence near a task's end would only cost
    status calls and CPU (each one a claim, an HTTP call and a store update)."""
    if typical_s is None or typical_s <= 0:
        return False
    if not submit_qps:
        return True
    return in_flight / typical_s < submit_qps * SLOT_HEADROOM


def poll_delay_near_due(hint_s: float, elapsed_s: float, typical_s: float | None) -> float:
    """`poll_delay`, but faster while the task is near its usual duration (`typical_s`, learned
    from the provider's recent tasks; None: not known yet). A poll that would overshoot the start
    of that window is pulled in to land on it."""
    delay = poll_delay(hint_s, elapsed_s)
    if typical_s is None or typical_s <= 0:
        return delay
    window_start, window_end = NEAR_DUE_FROM * typical_s, NEAR_DUE_UNTIL * typical_s
    if elapsed_s >= window_end:
        return delay
    fast = max(NEAR_DUE_MIN_S, delay * NEAR_DUE_FACTOR)
    if elapsed_s >= window_start:
        return min(delay, fast)
    return min(delay, max(fast, window_start - elapsed_s))


# Room per sliding second for the jitter between the planned send moment and the vendor's
# clock (sleep overshoot, thread scheduling, the request on the wire): 1 % of a second.
WINDOW_MARGIN_S = 0.01
# A send this late after its planned moment takes a fresh one: a late submit followed by an
# on-time one could put N + 1 submits in one window.
LATE_SEND_S = 0.004
# The most submits one window counts: a faster rate (the local engine's 100 a second) is kept
# as 4 in every 4 / rate seconds, not 100 moments in every second.
MAX_WINDOW_SENDS = 4


def send_window(rate: float) -> tuple[int, float]:
    """(N, seconds): at most N submits in any window of that many seconds. N is the whole submits
    a second (1 to `MAX_WINDOW_SENDS`); the window is N / rate plus the margin, so 2 a second is
    "2 in any 1.01 s" and 0.5 a second "1 in any 2.02 s"."""
    if rate <= 0:
        raise ValueError(f"submit rate must be positive, got {rate}")
    count = max(1, min(MAX_WINDOW_SENDS, int(rate)))
    return count, count * (1.0 + WINDOW_MARGIN_S) / rate


def reserve_send(
    recent: Sequence[float], now_s: float, rate: float, lookahead_s: float = 0.0, lead_s: float = 0.0
) -> tuple[float, float, list[float]] | None:
    """A send moment for one submit: (the moment, the earliest a job ready sooner may go, the
    recent moments to keep after it), or None when the moment is more than `lookahead_s` after
    the job could be sent (the claim waits for a later tick). `recent` are the last moments
    reserved (any order). `lead_s` is how long the job's inputs usually take to get ready after
    its claim: the moment is never sooner, so the submit is not late for it. Moments never go
    back in time: a worker whose clock is behind cannot move them back."""
    count, window = send_window(rate)
    ordered = sorted(recent)[-count:]
    earliest = now_s
    if ordered:
        earliest = max(earliest, ordered[-1])
    if len(ordered) >= count:
        earliest = max(earliest, ordered[0] + window)
    ready_s = now_s + max(0.0, lead_s)
    send_s = max(ready_s, earliest)
    if send_s - ready_s > lookahead_s:
        return None
    return send_s, earliest, [*ordered, send_s][-count:]


def send_is_late(planned_s: float, now_s: float) -> bool:
    """True when a submit planned for `planned_s` would leave too late to keep its place."""
    return now_s - planned_s > LATE_SEND_S
