"""The result viewer the create pages open a finished job in: one variant large, before/after, 100 % zoom.

Edges are what a user most needs to judge, and thumbnails hide them. So the
chosen variant is shown as large as the page allows, next to the original
photo (side by side, or a slider that moves the divide between them), and at
100 %: a crop at native pixels, moved with two sliders, drawn with `st.image`
at its own width so the browser does not rescale it. A small map shows where
the crop is. The pixel work here (crop, downscale for the slider) is for
display only; the images on disk are never changed.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from typing import Literal

import streamlit as st
from PIL import Image, ImageDraw, UnidentifiedImageError

from studio.jobs import JobOutput, JobView
from ui.i18n import choice_key, labeller, t, tkey
from ui.stored_files import file_bytes, image_source

MODES = ("large", "side_by_side", "slider", "zoom")
_MODE_KEYS = {
    "large": tkey("first_hour.viewer.mode.large"),
    "side_by_side": tkey("first_hour.viewer.mode.side_by_side"),
    "slider": tkey("first_hour.viewer.mode.slider"),
    "zoom": tkey("first_hour.viewer.mode.zoom"),
}
# The 100 % crop: at most this many pixels across and down, so it fits the viewer's column
# at 1280 px wide without the browser shrinking it (which would no longer be 100 %).
ZOOM_WIDTH, ZOOM_HEIGHT = 440, 440
_MAP_SIDE = 220  # the "where is the zoom" map
_SLIDER_SIDE = 1400  # the slider's two images are sent downscaled to this, not at full size
_CACHE_ENTRIES = 64
# A tall (portrait) result is shown at most this high, so the whole picture fits a 1280x720
# window with the page's header; a landscape one takes the column's width.
MAX_VIEW_HEIGHT = 600


def view_width(width: int, height: int) -> int | Literal["stretch"]:
    """How wide to draw a `width` x `height` result in the large view: the column's width, or
    narrower for a portrait picture so its height stays within MAX_VIEW_HEIGHT."""
    if height <= width or height <= 0:
        return "stretch"
    return max(1, round(MAX_VIEW_HEIGHT * width / height))


@dataclass(frozen=True)
class ZoomBox:
    """The 100 % crop in the output's pixels: left/top inclusive, right/bottom exclusive."""

    left: int
    top: int
    right: int
    bottom: int


def zoom_box(width: int, height: int, across_pct: int, down_pct: int) -> ZoomBox:
    """The crop centred at (across %, down %) of the image, kept inside it, at most ZOOM_WIDTH x ZOOM_HEIGHT."""
    crop_w, crop_h = min(width, ZOOM_WIDTH), min(height, ZOOM_HEIGHT)
    centre_x = width * min(max(across_pct, 0), 100) / 100
    centre_y = height * min(max(down_pct, 0), 100) / 100
    left = int(min(max(centre_x - crop_w / 2, 0), width - crop_w))
    top = int(min(max(centre_y - crop_h / 2, 0), height - crop_h))
    return ZoomBox(left, top, left + crop_w, top + crop_h)


def result_viewer(job: JobView, *, key_prefix: str) -> None:
    """The large view of one of `job`'s outputs with its tools; nothing when the job has no images."""
    outputs = [output for output in job.outputs if image_source(output.path) is not None]
    if not outputs:
        return
    base = f"{key_prefix}.viewer.{job.job_id}"
    view_column, tool_column = st.columns([3, 2], gap="medium")
    with tool_column:
        st.markdown(f"**{t('first_hour.viewer.title')}**")
        output = _variant_choice(outputs, base)
        mode = _mode_choice(base)
        st.caption(t("gallery.variant", number=output.index, width=output.width, height=output.height))
        box = _zoom_controls(output, base) if mode == "zoom" else None
    with view_column, st.container(key=f"{base.replace('.', '-')}-view"):
        if mode == "side_by_side":
            _side_by_side(job, output)
        elif mode == "slider":
            _slider(job, output, base)
        elif mode == "zoom" and box is not None:
            _zoom(output, box)
        else:
            st.image(image_source(output.path) or "", width=view_width(output.width, output.height))


def _variant_choice(outputs: list[JobOutput], base: str) -> JobOutput:
    numbers = [output.index for output in outputs]
    if len(outputs) == 1:
        return outputs[0]
    chosen = st.segmented_control(
        t("first_hour.viewer.pick"),
        options=numbers,
        format_func=labeller(numbers, lambda number: t("first_hour.viewer.variant", number=number)),
        key=choice_key(f"{base}.variant", numbers, numbers[0]),
        required=True,
        wrap=True,  # the tool column is narrow at 1280 px: buttons wrap, none is cut off
    )
    return next((output for output in outputs if output.index == chosen), outputs[0])


def _mode_choice(base: str) -> str:
    chosen = st.segmented_control(
        t("first_hour.viewer.mode"),
        options=list(MODES),
        format_func=labeller(MODES, lambda mode: t(_MODE_KEYS[mode])),
        key=choice_key(f"{base}.mode", MODES, "large"),
        required=True,
        wrap=True,  # the tool column is narrow at 1280 px: buttons wrap, none is cut off
    )
    return str(chosen) if chosen in MODES else "large"


def _side_by_side(job: JobView, output: JobOutput) -> None:
    before = image_source(job.input_path)
    if before is None:
        st.info(t("first_hour.viewer.no_before"), icon=":material/image_not_supported:")
        st.image(image_source(output.path) or "", width="stretch")
        return
    left, right = st.columns(2, gap="small")
    left.image(before, caption=t("gallery.before"), width="stretch")
    right.image(image_source(output.path) or "", caption=t("gallery.after"), width="stretch")


def _slider(job: JobView, output: JobOutput, base: str) -> None:
    before = _display_jpeg(job.input_path or "", _SLIDER_SIDE)
    after = _display_jpeg(output.path, _SLIDER_SIDE)
    if before is None or after is None:
        st.info(t("first_hour.viewer.no_before"), icon=":material/image_not_supported:")
        st.image(image_source(output.path) or "", width="stretch")
        return
    percent = st.slider(t("first_hour.viewer.slider"), 0, 100, 50, key=f"{base}.divide")
    st.html(slider_html(before, after, percent, output.width, output.height))
    st.caption(t("first_hour.viewer.slider_caption", percent=percent))


def slider_html(before_jpeg: bytes, after_jpeg: bytes, percent: int, width: int, height: int) -> str:
    """The result with the original over its left `percent`: two stacked images and a CSS clip."""
    before = base64.b64encode(before_jpeg).decode("ascii")
    after = base64.b64encode(after_jpeg).decode("ascii")
    # The original may have another shape than the result: fitted inside the result's frame.
    return (
        f'<div style="position:relative;width:100%;aspect-ratio:{width}/{height};line-height:0;'
        f"max-width:{MAX_VIEW_HEIGHT * width / max(height, 1):.0f}px;"
        'background:#e9ebef;border-radius:6px;overflow:hidden">'
        f'<img src="data:image/jpeg;base64,{after}" alt="" '
        'style="position:absolute;inset:0;width:100%;height:100%;object-fit:contain"/>'
        f'<img src="data:image/jpeg;base64,{before}" alt="" '
        'style="position:absolute;inset:0;width:100%;height:100%;object-fit:contain;background:#e9ebef;'
        f'clip-path:inset(0 {100 - percent}% 0 0)"/>'
        f'<div style="position:absolute;top:0;bottom:0;left:{percent}%;width:2px;margin-left:-1px;'
        'background:#fff;box-shadow:0 0 3px rgba(0,0,0,.6)"></div></div>'
    )


def _zoom_controls(output: JobOutput, base: str) -> ZoomBox:
    across = st.slider(t("first_hour.viewer.zoom_across"), 0, 100, 50, key=f"{base}.zoom.x")
    down = st.slider(t("first_hour.viewer.zoom_down"), 0, 100, 50, key=f"{base}.zoom.y")
    box = zoom_box(output.width, output.height, across, down)
    where = _zoom_map(output.path, box.left, box.top, box.right, box.bottom)
    if where is not None:
        st.image(where, caption=t("first_hour.viewer.zoom_where"), width=_MAP_SIDE)
    return box


def _zoom(output: JobOutput, box: ZoomBox) -> None:
    crop = zoom_crop(output.path, box)
    if crop is None:
        st.warning(t("first_hour.viewer.unreadable"), icon=":material/broken_image:")
        return
    # An int width is the image's own: the browser shows one pixel per pixel.
    st.image(crop, width=box.right - box.left)
    st.caption(
        t(
            "first_hour.viewer.zoom_caption",
            number=output.index,
            left=box.left,
            right=box.right,
            top=box.top,
            bottom=box.bottom,
            width=output.width,
            height=output.height,
        ),
        help=t("first_hour.viewer.zoom_help"),
    )


def zoom_crop(path: str, box: ZoomBox) -> bytes | None:
    """The PNG of `box` cut from the image at `path`, pixel for pixel; None when it cannot be read."""
    return _crop_png(path, box.left, box.top, box.right, box.bottom)


def _open(path: str) -> Image.Image | None:
    data = file_bytes(path)
    if data is None:
        return None
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError):
        return None
    return image


@st.cache_data(max_entries=_CACHE_ENTRIES, show_spinner=False)
def _crop_png(path: str, left: int, top: int, right: int, bottom: int) -> bytes | None:
    image = _open(path)
    if image is None:
        return None
    buffer = io.BytesIO()
    image.crop((left, top, right, bottom)).save(buffer, format="PNG")
    return buffer.getvalue()


@st.cache_data(max_entries=_CACHE_ENTRIES, show_spinner=False)
def _display_jpeg(path: str, max_side: int) -> bytes | None:
    image = _open(path) if path else None
    if image is None:
        return None
    image.thumbnail((max_side, max_side))
    buffer = io.BytesIO()
    _flatten(image).save(buffer, format="JPEG", quality=88)
    return buffer.getvalue()


@st.cache_data(max_entries=_CACHE_ENTRIES, show_spinner=False)
def _zoom_map(path: str, left: int, top: int, right: int, bottom: int) -> bytes | None:
    image = _open(path)
    if image is None:
        return None
    scale = _MAP_SIDE / max(image.size)
    small = _flatten(image).resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))))
    frame = [round(left * scale), round(top * scale), round(right * scale) - 1, round(bottom * scale) - 1]
    draw = ImageDraw.Draw(small)
    draw.rectangle(frame, outline=(255, 255, 255), width=3)
    draw.rectangle(frame, outline=(47, 93, 138), width=1)
    buffer = io.BytesIO()
    small.save(buffer, format="PNG")
    return buffer.getvalue()


def _flatten(image: Image.Image) -> Image.Image:
    """RGB for JPEG and drawing: transparency shown on white, the way the results are viewed."""
    if image.mode in ("RGBA", "LA", "P"):
        rgba = image.convert("RGBA")
        white = Image.new("RGB", rgba.size, (255, 255, 255))
        white.paste(rgba, mask=rgba.getchannel("A"))
        return white
    return image.convert("RGB")
