"""Inputs at URLs for the vendors that read images only from links (Tencent, Alibaba Marketplace).

Just before such a job is submitted, the worker publishes its photo, and its
mask in the form the vendor documents, through the configured `InputHost`
(presigned S3 link or published folder), and puts the links in the request.
What is published is what `providers.payload` makes from the stored files and
re-checks against the vendor's limits, the same function the job was checked with.
The object keys go into the job's notes, so whoever finishes the job, even
after a restart, removes the files; a vendor never gets a link to anything
but the one job's inputs. Links themselves are never stored or logged: a
presigned URL is a password until it expires.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from providers.base import GenerationRequest, Limits
from providers.payload import check_payload
from studio.errors import StudioError
from studio.hosting import HostingError, InputHost

logger = logging.getLogger(__name__)

# The job-notes key that lists what was published for a job (object keys or file names).
HOSTED_NOTE = "hosted_inputs"
# The job-notes key that says what was sent: format, size and bytes of the photo (and the mask's bytes).
SENT_NOTE = "sent_inputs"


class InputLinkError(StudioError):
    """The inputs could not be published; the message says why and what to do."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, code)
        self.message = message


@dataclass(frozen=True)
class PublishedInputs:
    """What `publish` did: the request with links, what to remove later, and the mask as sent."""

    request: GenerationRequest
    handles: tuple[str, ...] = ()
    sent_mask: bytes | None = None
    notes: Mapping[str, Any] = field(default_factory=dict)


class InputLinks:
    def __init__(self, host: InputHost | None) -> None:
        self.host = host

    def wants_links(self, limits: Limits) -> bool:
        """Whether a job for these limits is published before its submit: always when the vendor reads
        only links (`needs_urls`), and when it also reads links (`accepts_urls`, Aidge) and hosting is
        set up; without hosting such a vendor gets the bytes inline."""
        return limits.needs_urls or (limits.accepts_urls and self.host is not None)

    def publish(self, request: GenerationRequest, limits: Limits, vendor: str) -> PublishedInputs:
        """Links for `request`'s photo (and mask) when the vendor needs or takes them; else the request as is."""
        if not self.wants_links(limits):
            return PublishedInputs(request)
        if self.host is None:
            raise InputLinkError(
                "needs_hosting",
                f"{vendor} reads images only from web links, and no input hosting is set up. Set "
                "STUDIO_S3_BUCKET (an S3-compatible bucket) or STUDIO_PUBLISH_DIR with "
                "STUDIO_PUBLIC_BASE_URL (see the Settings page), then retry the job.",
            )
        # The files exactly as the job was checked with, checked again: a job made before these
        # checks, or an input changed on disk, is refused here, before anything is published or paid.
        check = check_payload(limits, request.image, request.mask, vendor=vendor, fix=False)
        if check.payload is None or check.problems:
            problem = check.problems[0]
            code = "bad_mask" if problem.code.startswith("mask_") else "input_does_not_fit"
            raise InputLinkError(
                code,
                f"The job's inputs cannot be sent to {vendor}: {problem.message} Nothing was sent. Submit "
                "the job again with a photo that fits (the page offers to fit it; in the CLI add --fit).",
            )
        payload = check.payload
        sent_mask = payload.mask.data if payload.mask is not None else None
        handles: list[str] = []
        try:
            sent = payload.image
            image = self.host.publish(sent.data, suffix=sent.suffix, content_type=sent.mime)
            handles.append(image.handle)
            mask_url = None
            if payload.mask is not None:
                mask = self.host.publish(payload.mask.data, suffix="png", content_type="image/png")
                handles.append(mask.handle)
                mask_url = mask.url
        except HostingError as exc:
            self.release(handles)
            if not limits.needs_urls:
                # Links are optional for this vendor: the job goes with its photo inline instead.
                logger.warning("input hosting failed, %s gets the photo inline: %s", vendor, exc)
                return PublishedInputs(request)
            raise InputLinkError(
                "hosting_failed",
                f"The photo could not be shared with {vendor}: {exc} The job was not sent; retry it "
                "once hosting works (Settings page, 'Test hosting').",
            ) from None
        linked = dataclasses.replace(request, image_url=image.url, mask_url=mask_url)
        notes = {HOSTED_NOTE: handles, "input_host": self.host.label, SENT_NOTE: payload.describe()}
        return PublishedInputs(linked, tuple(handles), sent_mask, notes)

    def release(self, handles: Iterable[str]) -> None:
        """Remove published inputs; a failure is logged, never raised (the bucket's lifecycle
        rule or the link's expiry is the backstop)."""
        if self.host is None:
            return
        for handle in handles:
            try:
                self.host.remove(handle)
            except HostingError as exc:
                logger.warning("could not remove a published input (%s): %s", handle, exc)


def hosted_handles(notes: Mapping[str, Any]) -> list[str]:
    value = notes.get(HOSTED_NOTE)
    return [str(item) for item in value] if isinstance(value, list) else []
