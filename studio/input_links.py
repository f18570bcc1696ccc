"""Inputs at URLs for the vendors that read images only from links (Tencent, Alibaba Marketplace).

Just before such a job is submitted, the worker publishes its photo, and its
mask in the form the vendor documents, through the configured `InputHost`
(presigned S3 link or published folder), and puts the links in the request.
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

from imaging.images import ImageInputError
from imaging.masks import vendor_mask_png
from providers.base import GenerationRequest, Limits
from studio.hosting import HostingError, InputHost

logger = logging.getLogger(__name__)

# The job-notes key that lists what was published for a job (object keys or file names).
HOSTED_NOTE = "hosted_inputs"


class InputLinkError(Exception):
    """The inputs could not be published; the message says why and what to do."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
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

    def publish(self, request: GenerationRequest, limits: Limits, vendor: str) -> PublishedInputs:
        """Links for `request`'s photo (and mask) when the vendor needs them; else the request as is."""
        if not limits.needs_urls:
            return PublishedInputs(request)
        if self.host is None:
            raise InputLinkError(
                "needs_hosting",
                f"{vendor} reads images only from web links, and no input hosting is set up. Set "
                "STUDIO_S3_BUCKET (an S3-compatible bucket) or STUDIO_PUBLISH_DIR with "
                "STUDIO_PUBLIC_BASE_URL (see the Settings page), then retry the job.",
            )
        sent_mask = None
        if request.mask is not None and limits.mask_mode is not None:
            try:
                sent_mask = vendor_mask_png(request.mask, request.image, limits.mask_mode)
            except ImageInputError as exc:
                raise InputLinkError(
                    "bad_mask",
                    f"The job's mask cannot be sent ({exc}). Submit the job again with a new mask.",
                ) from None
        handles: list[str] = []
        try:
            image = self.host.publish(request.image, suffix="png", content_type="image/png")
            handles.append(image.handle)
            mask_url = None
            if sent_mask is not None:
                mask = self.host.publish(sent_mask, suffix="png", content_type="image/png")
                handles.append(mask.handle)
                mask_url = mask.url
        except HostingError as exc:
            self.release(handles)
            raise InputLinkError(
                "hosting_failed",
                f"The photo could not be shared with {vendor}: {exc} The job was not sent; retry it "
                "once hosting works (Settings page, 'Test hosting').",
            ) from None
        linked = dataclasses.replace(request, image_url=image.url, mask_url=mask_url)
        notes = {HOSTED_NOTE: handles, "input_host": self.host.label}
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
