"""Edge quality of the model cutout on photograph-like cases with exact truths (issue 12's measures).

Small copies (500 px) of cases from `edge_photos`, cut out with u2netp and the
matting refinement, composed on white in place and scored with
`imaging.quality.edge_scores`. Thresholds sit a little below the figures
measured when this was written (in the comments); the refinement it replaced
(the guided filter) fails most of them: its halo was 1.2-12.5 on these cases
and its fringe up to 10.5.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from imaging.cutout import REFINEMENT, Cutout, U2NetpSegmenter, cut_out
from imaging.images import encode_png, load_image
from imaging.quality import EdgeScores, edge_scores, iou, on_white
from tests.imaging import edge_photos

MODEL_PATH = Path(__file__).resolve().parents[2] / "models" / "u2netp.onnx"
SIDE = 500
CASES = ("glossy_bottle_wood", "white_sneaker_white", "mug_foliage", "handbag_strap", "ring_fabric")


@pytest.fixture(scope="module")
def segmenter() -> U2NetpSegmenter:
    if not MODEL_PATH.exists():
        pytest.skip(f"u2netp model not found at {MODEL_PATH}; fetch it with scripts/fetch_model.py")
    return U2NetpSegmenter(MODEL_PATH.read_bytes())


@pytest.fixture(scope="module")
def photos() -> dict[str, edge_photos.EdgePhoto]:
    names = [make.__name__ for make in edge_photos.TUNE + edge_photos.HELD_OUT]
    return {name: edge_photos.make(names.index(name), SIDE) for name in CASES}


@pytest.fixture(scope="module")
def cutouts(photos: dict[str, edge_photos.EdgePhoto], segmenter: U2NetpSegmenter) -> dict[str, Cutout]:
    return {name: cut_out(load_image(encode_png(p.rgb)), segmenter=segmenter) for name, p in photos.items()}


def scores(photo: edge_photos.EdgePhoto, cutout: Cutout) -> EdgeScores:
    return edge_scores(on_white(cutout.rgba), photo.rgb, photo.alpha)


def enclosed_background(truth: np.ndarray, margin: int = 3) -> np.ndarray:
    """True background not connected to the frame (a handle's or a ring's hole), `margin` px in from its edge."""
    background = (truth < 128).astype(np.uint8)
    count, labels = cv2.connectedComponents(background, connectivity=4)
    border = np.unique(np.concatenate((labels[0], labels[-1], labels[:, 0], labels[:, -1])))
    holes = (~np.isin(labels, border) & (background > 0)).astype(np.uint8)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * margin + 1, 2 * margin + 1))
    return cv2.erode(holes, kernel).astype(bool)


# (case, min IoU, max halo, max fringe, max body); measured IoU / halo / fringe / body in the comment.
THRESHOLDS = [
    ("glossy_bottle_wood", 0.97, 1.0, 6.0, 0.5),  # 0.977 / 0.03 / 3.1 / 0.0: no wood whiskers
    ("white_sneaker_white", 0.98, 1.5, 1.0, 0.5),  # 0.990 / 0.30 / 0.03 / 0.0: white on white, no halo
    ("mug_foliage", 0.99, 1.0, 2.0, 0.5),  # 0.997 / 0.09 / 0.50 / 0.0: foliage touching a handle
    ("handbag_strap", 0.99, 1.0, 1.0, 0.5),  # 0.996 / 0.02 / 0.00 / 0.0: a thin strap loop
    ("ring_fabric", 0.97, 2.0, 1.5, 0.5),  # 0.975 / 0.70 / 0.19 / 0.0: a ring on woven fabric
]


@pytest.mark.parametrize(("name", "min_iou", "max_halo", "max_fringe", "max_body"), THRESHOLDS)
def test_edge_measures(
    name: str,
    min_iou: float,
    max_halo: float,
    max_fringe: float,
    max_body: float,
    photos: dict[str, edge_photos.EdgePhoto],
    cutouts: dict[str, Cutout],
) -> None:
    photo, cutout = photos[name], cutouts[name]
    assert cutout.method == "model" and cutout.refinement == REFINEMENT == "matting"
    result = scores(photo, cutout)
    assert iou(cutout.alpha, photo.alpha) >= min_iou
    assert result.halo <= max_halo, result
    assert result.fringe <= max_fringe, result
    assert result.body <= max_body, result


@pytest.mark.parametrize("name", ["mug_foliage", "handbag_strap", "ring_fabric"])
def test_holes_stay_open(
    name: str, photos: dict[str, edge_photos.EdgePhoto], cutouts: dict[str, Cutout]
) -> None:
    holes = enclosed_background(photos[name].alpha)
    assert holes.sum() > 200, "the case must have a real hole"
    assert np.mean(cutouts[name].alpha[holes] < 128) >= 0.99


def test_thin_strap_is_kept_whole(
    photos: dict[str, edge_photos.EdgePhoto], cutouts: dict[str, Cutout]
) -> None:
    photo = photos["handbag_strap"]
    strap = np.zeros(photo.alpha.shape, bool)
    top = int(photo.alpha.shape[0] * 0.50)  # the bag's body starts at 520 of 1000 design units
    strap[:top] = photo.alpha[:top] >= 128
    width = 2 * float(cv2.distanceTransform(strap.astype(np.uint8), cv2.DIST_L2, 5).max())
    assert strap.sum() > 500 and width <= 10, "the case must have a long, thin strap at this size"
    assert np.mean(cutouts["handbag_strap"].alpha[strap] >= 128) >= 0.97


def test_white_on_white_is_found(
    photos: dict[str, edge_photos.EdgePhoto], cutouts: dict[str, Cutout]
) -> None:
    photo, cutout = photos["white_sneaker_white"], cutouts["white_sneaker_white"]
    inside = cv2.erode(photo.mask, np.ones((7, 7), np.uint8)) > 0
    outside = cv2.dilate(photo.mask, np.ones((9, 9), np.uint8)) == 0
    assert np.mean(cutout.alpha[inside] == 255) >= 0.99
    # No glow: 4 px outside the sneaker the composite is white.
    assert np.mean(cutout.alpha[outside] <= 8) >= 0.99


def test_edge_scores_on_known_answers() -> None:
    photo = edge_photos.make(0, 300)
    perfect = np.dstack((photo.rgb, photo.alpha))
    # The photo with its own true alpha (no decontamination) is nearly perfect (its edge mixes a
    # little wood into the 2 px rings)...
    good = edge_scores(on_white(perfect), photo.rgb, photo.alpha)
    assert good.halo < 4.0 and good.fringe < 5.0 and good.body == 0.0
    # ...while the whole photo, uncut, shows the old background in the halo ring.
    uncut = edge_scores(photo.rgb, photo.rgb, photo.alpha)
    assert uncut.halo > 50 and uncut.fringe == 0.0
    with pytest.raises(ValueError, match="one size"):
        edge_scores(photo.rgb[:10], photo.rgb, photo.alpha)


class _SureMap:
    """A model's map, given: a product whose pale middle looks like the pale background."""

    name = "sure"

    def __init__(self, prob: np.ndarray, *, fills_holes: bool) -> None:
        self.fills_holes = fills_holes
        self._prob = prob

    def predict(self, rgb: np.ndarray, size: tuple[int, int] | None = None) -> np.ndarray:
        return self._prob


def test_a_region_a_hole_seeing_model_is_sure_of_is_kept_even_if_it_looks_like_the_background() -> None:
    # A dark frame around a pale seat, on a pale background: a filled hole to u2netp's hole
    # finder, but a model that sees holes itself (ISNet) is believed where its map is sure.
    size = 400
    rgb = np.full((size, size, 3), 232, np.uint8)
    rgb[100:300, 100:300] = (40, 30, 25)
    rgb[130:270, 130:270] = (228, 228, 226)
    prob = np.zeros((size, size), np.float32)
    prob[100:300, 100:300] = 0.98
    image = load_image(encode_png(rgb))
    seat = (slice(150, 250), slice(150, 250))
    kept = cut_out(image, segmenter=_SureMap(prob, fills_holes=False))
    assert kept.alpha[seat].mean() > 250
    carved = cut_out(image, segmenter=_SureMap(prob, fills_holes=True))
    assert carved.alpha[seat].mean() < 5


def test_small_punched_holes_open_and_small_print_stays(segmenter: U2NetpSegmenter) -> None:
    """A watch strap's punched holes (a few working pixels across, filled by the model) show the
    wood through them and are opened; a dot of another colour printed on the strap is kept."""
    names = [make.__name__ for make in edge_photos.TUNE + edge_photos.HELD_OUT]
    photo = edge_photos.make(names.index("watch_wood"), 1000)
    holes = enclosed_background(photo.alpha, margin=2)
    assert holes.sum() >= 4 * 60, "the case must have four small holes"
    cutout = cut_out(load_image(encode_png(photo.rgb)), segmenter=segmenter)
    assert np.mean(cutout.alpha[holes] < 128) >= 0.9

    # The same strap with a pale blue dot printed where the first hole was: not the wood's hue.
    printed = photo.rgb.copy()
    ys, xs = np.nonzero(holes)
    first = ys < ys.min() + 30
    cy, cx = int(ys[first].mean()), int(xs[first].mean())
    cv2.circle(printed, (cx, cy), 9, (150, 190, 230), -1, lineType=cv2.LINE_AA)
    dot = np.zeros(holes.shape, np.uint8)
    cv2.circle(dot, (cx, cy), 6, 1, -1)
    kept = cut_out(load_image(encode_png(printed)), segmenter=segmenter)
    assert np.mean(kept.alpha[dot > 0] >= 128) >= 0.95
