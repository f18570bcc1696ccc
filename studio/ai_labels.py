"""The AI-content label every output carries (issue 17): how it was made, by which tool and provider.

Written into each stored output by the worker (`Artifacts.save_output`) and into every
exported file (`studio.export`), as XMP (`imaging.provenance`: the IPTC digital source type
and the implicit AIGC label GB 45438-2025 asks of AI-generated pictures).
"""

from __future__ import annotations

from datetime import datetime

from imaging.provenance import Provenance

TOOL_NAME = "Backdrop Studio"
# Providers whose pictures are the local engine's procedural backdrops, not a trained model's.
_PROCEDURAL_PROVIDERS = frozenset({"local"})


def provenance_for(
    provider: str, provider_label: str, job_id: str | None, made_at: datetime | None
) -> Provenance:
    """A vendor's AI background around the real product photo is
    "compositeWithTrainedAlgorithmicMedia"; the local engine's cut-out product on a procedurally
    made backdrop is "compositeSynthetic"."""
    procedural = provider in _PROCEDURAL_PROVIDERS
    return Provenance(
        source_type="compositeSynthetic" if procedural else "compositeWithTrainedAlgorithmicMedia",
        tool=TOOL_NAME,
        provider=provider,
        provider_label=provider_label,
        job_id=job_id,
        created_at=made_at.isoformat(timespec="seconds") if made_at is not None else None,
        ai_generated=True,
    )
