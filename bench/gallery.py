"""By-eye gallery of the local engine (issue 13): products x prompts, before and after, one sheet per prompt.

Run: `.venv/bin/python bench/gallery.py [--before REV] [--cutout fast|best] [--only-after]
[--products NAME ...] [--rows ID ...] [--cell PX] [--jobs 1|2]`. It writes docs/gallery/:
one JPEG contact sheet per prompt (rows = product photos; columns = the photo | before v1 |
before v2 | after v1 | after v2), `index.jpg` (every prompt at a glance: before v1 | after v1 per
product) and README.md (prompt -> sheet, and how the engine read each prompt: the words it used,
the words it ignored, its reading). `--make` (or the `make` command) regenerates the product
photos in bench/gallery_set/ from bench/gallery_products.py (JPEGs and manifest.json).

"before" is the engine at a git revision (default 91cf281, the commit issue 13 started from),
exported with `git archive` into the cache and run there with the working tree's models/;
"after" is the working tree. Each side renders in its own process (`render --code DIR`, with
cwd and PYTHONPATH set to that tree), so the two never share imports. Both get the same
request per cell, built the way the app builds it: `GenerationRequest(PROMPT_BACKGROUND or
SCENE_BACKGROUND, image=<photo bytes>, prompt/scene_id, count=2, size=800x800, seed)` with
options from `LocalEngine.check_params` (`cutout` fast unless `--cutout best`), submitted to
`LocalEngine(ProviderContext(resources=...))`.

Renders are cached under bench/results/gallery/ (gitignored), per side: a job is redone only
when that tree's imaging/ or providers/ sources, the photo, the request or the cell size
changed, so re-running after a sheet-only change is instant, and "before" is rendered once.
`--only-after` never touches "before" when its cache exists. `sheet` re-assembles the sheets
from the cache alone.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[1]
SET_DIR = ROOT / "bench" / "gallery_set"
OUT_DIR = ROOT / "docs" / "gallery"
CACHE_DIR = ROOT / "bench" / "results" / "gallery"
BEFORE_REV = "91cf281"
OUTPUT_SIZE = (800, 800)
VARIANTS = 2
CELL = 272
SHEET_MAX_BYTES = 600_000
# Sheet layout, in px: margin, gap between cells, gap between column groups, column-head band.
PAD, GAP, GROUP_GAP, HEAD_H = 16, 4, 14, 30


@dataclass(frozen=True)
class Row:
    """One sheet: a prompt (EN or ZH) or a scene from the local catalogue."""

    row_id: str
    prompt: str = ""
    scene_id: str | None = None

    @property
    def title(self) -> str:
        return f"scene: {self.scene_id}" if self.scene_id else self.prompt


ROWS: tuple[Row, ...] = (
    Row("01_marble_morning", "white marble counter, soft morning light"),
    Row("02_oak_window", "oak table by a window, warm afternoon sun, leaf shadows"),
    Row("03_black_marble_gold", "黑色大理石台面，金色逆光，高级感"),
    Row("04_concrete_noon", "concrete floor, hard noon sun, minimal"),
    Row("05_linen_kitchen", "linen tablecloth, overcast daylight, cozy kitchen"),
    Row("06_pink_soft", "粉色背景，柔光，简约"),
    Row("07_terrazzo_spotlight", "terrazzo, pastel colors, spotlight"),
    Row("08_beach_sunset", "sandy beach at sunset"),
    Row("09_wood_blinds", "木桌，窗边晨光，百叶窗影子"),
    Row("10_pure_white", "pure white background"),
    Row("11_scene_sage_botanical", scene_id="sage-botanical"),
    Row("12_scene_christmas", scene_id="christmas-red-gold"),
)


# ------------------------------------------------------------------ the photo set
def make_set(set_dir: Path = SET_DIR, size: int | None = None, only: list[str] | None = None) -> None:
    """Write the product photos (JPEG q92) and manifest.json; `size` overrides each photo's long side."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from bench import gallery_products

    set_dir.mkdir(parents=True, exist_ok=True)
    manifest = []
    for index, case in enumerate(gallery_products.CASES):
        if only and case.name not in only:
            continue
        photo = gallery_products.make(index, size)
        path = set_dir / f"{photo.name}.jpg"
        bgr = cv2.cvtColor(photo.rgb, cv2.COLOR_RGB2BGR)
        cv2.imwrite(str(path), bgr, [cv2.IMWRITE_JPEG_QUALITY, 92])
        height, width = photo.rgb.shape[:2]
        manifest.append(
            {"name": photo.name, "product": photo.product, "setting": photo.setting, "size": [width, height]}
        )
        print(f"wrote {path.relative_to(set_dir.parent)} {width}x{height} ({photo.product}, {photo.setting})")
    (set_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")


def load_manifest(set_dir: Path) -> list[dict[str, Any]]:
    return list(json.loads((set_dir / "manifest.json").read_text()))


def _seed(row: Row, product: str) -> int:
    """The same per (row, product) on both sides, whatever else is selected."""
    return zlib.crc32(f"{row.row_id}/{product}".encode()) % 1_000_000


def _select_rows(ids: list[str] | None) -> list[Row]:
    if not ids:
        return list(ROWS)
    rows = [row for row in ROWS if row.row_id in ids or row.row_id.split("_")[0] in ids]
    if not rows:
        raise SystemExit(f"no row matches {ids}; rows: {', '.join(row.row_id for row in ROWS)}")
    return rows


# ------------------------------------------------------------------------ render
class _LazyResources(Mapping[str, Any]):
    """The engine's resources, loaded on first use, as the app hands them over."""

    def __init__(self, code: Path, quality: str, threads: int) -> None:
        self._loaders = {
            "segmenter.u2netp": lambda: self._model("u2netp", code / "models" / "u2netp.onnx", threads),
            "segmenter.isnet": lambda: self._model("isnet", code / "models" / "isnet.onnx", threads),
            "cutout.default": lambda: quality,
            "cjk_font": lambda: None,
        }
        self._loaded: dict[str, Any] = {}

    @staticmethod
    def _model(name: str, path: Path, threads: int) -> Any:
        from imaging.segmenters import load_segmenter

        if not path.is_file():
            print(
                f"warning: {path} is missing; the engine falls back to its classical cutout", file=sys.stderr
            )
            return None
        segmenter = load_segmenter(name, path.read_bytes(), threads=threads)
        _remember_maps(segmenter)
        return segmenter

    def __getitem__(self, key: str) -> Any:
        if key not in self._loaded:
            self._loaded[key] = self._loaders[key]()
        return self._loaded[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._loaders)

    def __len__(self) -> int:
        return len(self._loaders)


def _remember_maps(segmenter: Any) -> None:
    """Run the model once per photo: every prompt of a product gets the same map, so the same cut.

    `infer` is replaced on the instance (not wrapped in a proxy) because the cutout picks its path
    with `isinstance` on the segmenter; its `predict` calls `self.infer` and finds this one.
    """
    infer = getattr(segmenter, "infer", None)
    if infer is None:
        return
    maps: dict[bytes, np.ndarray] = {}

    def remembered(rgb: np.ndarray) -> np.ndarray:
        key = (
            hashlib.blake2b(np.ascontiguousarray(rgb).tobytes(), digest_size=16).digest()
            + repr(rgb.shape).encode()
        )
        if key not in maps:
            maps[key] = infer(rgb)
        return maps[key].copy()

    segmenter.infer = remembered


def _code_digest(code: Path) -> str:
    """What the render depends on in a code tree: its imaging/ and providers/ sources and models."""
    digest = hashlib.sha256()
    for package in ("imaging", "providers"):
        for path in sorted((code / package).rglob("*.py")):
            digest.update(str(path.relative_to(code)).encode())
            digest.update(path.read_bytes())
    for model in sorted((code / "models").glob("*.onnx")):
        digest.update(f"{model.name}:{model.stat().st_size}".encode())
    return digest.hexdigest()[:16]


def _fit(rgb: np.ndarray, side: int, fill: int = 236) -> np.ndarray:
    """`rgb` scaled to fit a `side` square, centred on a light grey."""
    h, w = rgb.shape[:2]
    scale = side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    cell = np.full((side, side, 3), fill, np.uint8)
    y0, x0 = (side - size[1]) // 2, (side - size[0]) // 2
    cell[y0 : y0 + size[1], x0 : x0 + size[0]] = small
    return cell


def _write_jpeg(path: Path, rgb: np.ndarray, quality: int) -> None:
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])


def _decode(data: bytes) -> np.ndarray:
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError("the engine returned an image OpenCV cannot decode")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _read_rgb(path: Path) -> np.ndarray:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise FileNotFoundError(path)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def render(
    code: Path,
    out: Path,
    set_dir: Path,
    *,
    quality: str = "fast",
    products: list[str] | None = None,
    row_ids: list[str] | None = None,
    cell: int = CELL,
    threads: int = 2,
) -> dict[str, Any]:
    """Render every (product, row) with the engine of the code tree on sys.path; results.json in `out`."""
    import imaging
    from providers.base import GenerationRequest, Operation, ProviderContext
    from providers.local import LocalEngine

    if not Path(imaging.__file__).resolve().is_relative_to(code.resolve()):
        raise SystemExit(f"imaging was imported from {imaging.__file__}, not from {code}")
    cv2.setNumThreads(threads)
    (out / "cells").mkdir(parents=True, exist_ok=True)
    (out / "full").mkdir(parents=True, exist_ok=True)
    results_path = out / "results.json"
    previous = json.loads(results_path.read_text()) if results_path.is_file() else {}
    old_jobs: dict[str, Any] = previous.get("jobs", {})
    digest = _code_digest(code)
    engine = LocalEngine(ProviderContext(resources=_LazyResources(code, quality, threads)))
    manifest = [item for item in load_manifest(set_dir) if not products or item["name"] in products]
    rows = _select_rows(row_ids)
    jobs: dict[str, Any] = dict(old_jobs)
    started = time.perf_counter()
    done = reused = 0
    for row in rows:
        for item in manifest:
            name = item["name"]
            photo = (set_dir / f"{name}.jpg").read_bytes()
            seed = _seed(row, name)
            key = hashlib.sha256(
                json.dumps(
                    [digest, hashlib.sha256(photo).hexdigest(), row.prompt, row.scene_id, quality, seed, cell]
                ).encode()
            ).hexdigest()[:16]
            job_id = f"{row.row_id}__{name}"
            cells = [out / "cells" / f"{job_id}__v{index + 1}.jpg" for index in range(VARIANTS)]
            old = old_jobs.get(job_id)
            if old and old.get("key") == key and (old.get("error") or all(path.is_file() for path in cells)):
                reused += 1
                continue
            operation = Operation.SCENE_BACKGROUND if row.scene_id else Operation.PROMPT_BACKGROUND
            request = GenerationRequest(
                operation=operation,
                image=photo,
                prompt=row.prompt,
                scene_id=row.scene_id,
                count=VARIANTS,
                size=OUTPUT_SIZE,
                seed=seed,
                params=LocalEngine.check_params(operation, {"cutout": quality}),
            )
            job: dict[str, Any] = {"key": key, "row": row.row_id, "product": name, "seed": seed}
            start = time.perf_counter()
            try:
                update = engine.submit(request).update
                if update is None:
                    raise RuntimeError("the local engine returned no finished update")
            except Exception as exc:  # a broken revision shows as a marked cell, not a lost run
                job["error"] = f"{type(exc).__name__}: {exc}"
                print(f"{job_id}: {job['error']}", file=sys.stderr)
            else:
                job["seconds"] = round(time.perf_counter() - start, 3)
                job["notes"] = {
                    k: v for k, v in update.notes.items() if isinstance(v, str | int | float | list)
                }
                for index, output in enumerate(update.outputs[:VARIANTS]):
                    assert output.data is not None
                    rgb = _decode(output.data)
                    _write_jpeg(out / "full" / cells[index].name, rgb, 90)
                    _write_jpeg(cells[index], _fit(rgb, cell), 95)
            jobs[job_id] = job
            done += 1
            print(f"{job_id}: {job.get('seconds', 'failed')} s", flush=True)
    results = {
        "code": str(code),
        "code_digest": digest,
        "cutout": quality,
        "cell": cell,
        "rendered": done,
        "reused": reused,
        "seconds": round(time.perf_counter() - started, 1),
        "jobs": jobs,
    }
    results_path.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    return results


# ------------------------------------------------------------------ before tree
def resolve(rev: str) -> str:
    return subprocess.run(
        ["git", "rev-parse", "--verify", f"{rev}^{{commit}}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def export_revision(rev: str, cache: Path) -> Path:
    """The tree at `rev` (via `git archive`), once per commit, with the working tree's models/ linked in."""
    commit = resolve(rev)
    target = cache / f"code-{commit[:12]}"
    if (target / ".exported").is_file():
        return target
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "archive", "--format=tar", commit, "imaging", "providers"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    tar_path = target / "code.tar"
    tar_path.write_bytes(archive)
    with tarfile.open(tar_path) as tar:
        tar.extractall(target, filter="data")
    tar_path.unlink()
    (target / "models").symlink_to(ROOT / "models", target_is_directory=True)
    (target / ".exported").write_text(commit + "\n")
    return target


def render_in_process(
    code: Path, out: Path, args: argparse.Namespace, threads: int, log: Path
) -> subprocess.Popen[bytes]:
    """Start `render` for one code tree in a child process whose imports come only from that tree."""
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "render",
        "--code",
        str(code),
        "--out",
        str(out),
        "--set",
        str(args.set.resolve()),
        "--cutout",
        args.cutout,
        "--cell",
        str(args.cell),
        "--threads",
        str(threads),
    ]
    if args.products:
        command += ["--products", *args.products]
    if args.rows:
        command += ["--rows", *args.rows]
    env = {**os.environ, "PYTHONPATH": str(code), "PYTHONDONTWRITEBYTECODE": "1"}
    with log.open("wb") as handle:
        return subprocess.Popen(command, cwd=code, env=env, stdout=handle, stderr=subprocess.STDOUT)


# ------------------------------------------------------------------------ sheets
def find_font() -> tuple[str, int] | None:
    """A CJK-capable sans font (path, face index): fontconfig first, then the noto_cjk wheel."""
    try:
        found = subprocess.run(
            ["fc-match", "-f", "%{file}|%{index}", "sans-serif:lang=zh-cn"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout
        path, _, index = found.partition("|")
        if path and Path(path).is_file() and "cjk" in path.lower():
            return path, int(index or 0)
    except (OSError, subprocess.SubprocessError, ValueError):
        pass
    try:
        import noto_cjk

        return str(noto_cjk.otc_path("sans")), 2
    except (ImportError, AttributeError, OSError):
        return None


class Fonts:
    def __init__(self) -> None:
        self.found = find_font()

    def get(self, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
        if self.found:
            path, index = self.found
            return ImageFont.truetype(path, size, index=index)
        return ImageFont.load_default(size)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: Any, width: int) -> list[str]:
    lines, line = [], ""
    for char in text:
        if draw.textlength(line + char, font=font) > width and line:
            cut = line.rfind(" ")
            if cut > 0 and char != " ":
                lines.append(line[:cut])
                line = line[cut + 1 :]
            else:
                lines.append(line)
                line = ""
        line += char
    return [*lines, line.strip()] if line.strip() else lines


def _fit_text(draw: ImageDraw.ImageDraw, text: str, font: Any, width: int) -> str:
    """`text`, cut short with an ellipsis when it is wider than `width`."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


def _reading_lines(notes: Mapping[str, Any] | None) -> tuple[str, str]:
    if not notes:
        return "", ""
    if notes.get("scene"):
        return f"scene recipe {notes['scene']}", ""
    used = ", ".join(notes.get("words_used") or []) or "-"
    ignored = ", ".join(notes.get("words_ignored") or []) or "none"
    return f"read as: {notes.get('reading', '?')}", f"words used: {used}   |   ignored: {ignored}"


def _reading_key(notes: Mapping[str, Any] | None) -> tuple[Any, ...]:
    notes = notes or {}
    return (notes.get("reading"), notes.get("words_used"), notes.get("words_ignored"), notes.get("scene"))


def _row_notes(results: Mapping[str, Any], row: Row) -> dict[str, Any] | None:
    for job in results.get("jobs", {}).values():
        if job.get("row") == row.row_id and job.get("notes"):
            return dict(job["notes"])
    return None


def _cell_image(cache: Path, job_id: str, variant: int, cell: int, results: Mapping[str, Any]) -> np.ndarray:
    path = cache / "cells" / f"{job_id}__v{variant}.jpg"
    if path.is_file():
        rgb = _read_rgb(path)
        return rgb if rgb.shape[0] == cell else _fit(rgb, cell)
    blank = np.full((cell, cell, 3), 200, np.uint8)
    error = results.get("jobs", {}).get(job_id, {}).get("error", "not rendered")
    image = Image.fromarray(blank)
    draw = ImageDraw.Draw(image)
    draw.multiline_text(
        (8, 8), "\n".join(_wrap(draw, error, ImageFont.load_default(12), cell - 16)), fill=(120, 0, 0)
    )
    return np.asarray(image)


def _save_sheet(path: Path, image: Image.Image) -> int:
    """JPEG at quality 85, lowered until the file fits SHEET_MAX_BYTES; returns the size."""
    for quality in (85, 80, 75, 70, 65):
        image.save(path, "JPEG", quality=quality, optimize=True, progressive=True)
        if path.stat().st_size <= SHEET_MAX_BYTES:
            break
    return path.stat().st_size


def column_x(sides: int, cell: int) -> list[int]:
    """Left edges of a sheet's columns: the photo, then each side's variants (a wider gap between groups).

    The grid is the sheet's bottom part: rows of `cell + GAP` ending PAD above its bottom edge,
    and the sheet is PAD wider than the last column's right edge.
    """
    x = [PAD]
    for column in range(1, 1 + sides * VARIANTS):
        x.append(x[-1] + cell + (GROUP_GAP if (column - 1) % VARIANTS == 0 else GAP))
    return x


def build_sheet(
    row: Row,
    products: list[dict[str, Any]],
    set_dir: Path,
    sides: list[tuple[str, Path, dict[str, Any]]],
    cell: int,
    fonts: Fonts,
    note: str = "",
) -> Image.Image:
    """One prompt: a title band, column heads, then per product the photo and each side's variants."""
    gap, pad = GAP, PAD
    x_positions = column_x(len(sides), cell)
    width = x_positions[-1] + cell + pad
    title_font, small_font, head_font, label_font = fonts.get(30), fonts.get(16), fonts.get(18), fonts.get(16)
    probe = ImageDraw.Draw(Image.new("RGB", (8, 8)))
    blocks = [(label, _row_notes(results, row)) for label, _cache, results in sides]
    if len(blocks) > 1 and all(_reading_key(notes) == _reading_key(blocks[-1][1]) for _l, notes in blocks):
        blocks = [(" = ".join(label for label, _n in blocks), blocks[-1][1])]
    text_lines: list[str] = []
    for label, notes in blocks:
        first, second = _reading_lines(notes)
        if first:
            text_lines += _wrap(probe, f"{label}: {first}", small_font, width - 2 * pad)
        if second:
            text_lines += _wrap(probe, second, small_font, width - 2 * pad)
    if note:
        text_lines += _wrap(probe, note, small_font, width - 2 * pad)
    title_lines = _wrap(probe, f"{row.row_id[:2]}  {row.title}", title_font, width - 2 * pad)
    text_top = pad + 40 * len(title_lines) + 4
    title_h = text_top + 22 * len(text_lines) + 8
    height = title_h + HEAD_H + len(products) * (cell + gap) + pad
    sheet = Image.new("RGB", (width, height), (250, 250, 248))
    draw = ImageDraw.Draw(sheet)
    for index, line in enumerate(title_lines):
        draw.text((pad, pad + 40 * index), line, font=title_font, fill=(20, 20, 20))
    for index, line in enumerate(text_lines):
        draw.text((pad, text_top + 22 * index), line, font=small_font, fill=(70, 70, 70))

    heads = ["photo"] + [f"{label} v{v + 1}" for label, _c, _r in sides for v in range(VARIANTS)]
    for x, head in zip(x_positions, heads, strict=True):
        draw.text((x + 4, title_h + 4), head, font=head_font, fill=(40, 40, 40))
    y = title_h + HEAD_H
    for item in products:
        name = item["name"]
        photo = _fit(_read_rgb(set_dir / f"{name}.jpg"), cell)
        tiles = [photo]
        for _label, cache, results in sides:
            tiles += [
                _cell_image(cache, f"{row.row_id}__{name}", v + 1, cell, results) for v in range(VARIANTS)
            ]
        for x, tile in zip(x_positions, tiles, strict=True):
            sheet.paste(Image.fromarray(tile), (x, y))
            # A hairline frame, so a white output stays visibly a cell on the light sheet.
            draw.rectangle((x - 1, y - 1, x + cell, y + cell), outline=(200, 200, 200))
        label = _fit_text(draw, f"{name} ({item['product']}, {item['setting']})", label_font, cell - 10)
        box = draw.textbbox((0, 0), label, font=label_font)
        draw.rectangle((pad, y + cell - box[3] - 8, pad + box[2] + 10, y + cell), fill=(0, 0, 0))
        draw.text((pad + 5, y + cell - box[3] - 5), label, font=label_font, fill=(255, 255, 255))
        y += cell + gap
    return sheet


def build_index(
    rows: list[Row],
    products: list[dict[str, Any]],
    sides: list[tuple[str, Path, dict[str, Any]]],
    fonts: Fonts,
) -> Image.Image:
    """Every prompt at a glance: per product, each side's first variant, small."""
    tile, gap, pair_gap, label_w, pad = 96, 2, 10, 300, 10
    pair_w = len(sides) * tile + (len(sides) - 1) * gap
    width = pad * 2 + label_w + len(products) * (pair_w + pair_gap)
    height = pad * 2 + 24 + len(rows) * (tile + gap + 4)
    sheet = Image.new("RGB", (width, height), (250, 250, 248))
    draw = ImageDraw.Draw(sheet)
    font, small = fonts.get(15), fonts.get(12)
    for index, item in enumerate(products):
        x = pad + label_w + index * (pair_w + pair_gap)
        draw.text((x, pad), item["name"], font=small, fill=(40, 40, 40))
    draw.text(
        (pad, pad),
        " | ".join(label for label, _c, _r in sides) + " (variant 1)",
        font=small,
        fill=(40, 40, 40),
    )
    y = pad + 24
    for row in rows:
        lines = _wrap(draw, f"{row.row_id[:2]} {row.title}", font, label_w - 10)[:4]
        draw.multiline_text((pad, y + 4), "\n".join(lines), font=font, fill=(20, 20, 20))
        for index, item in enumerate(products):
            x = pad + label_w + index * (pair_w + pair_gap)
            for side, (_label, cache, results) in enumerate(sides):
                image = _cell_image(cache, f"{row.row_id}__{item['name']}", 1, tile, results)
                sheet.paste(
                    Image.fromarray(image if image.shape[0] == tile else _fit(image, tile)),
                    (x + side * (tile + gap), y),
                )
        y += tile + gap + 4
    return sheet


def write_sheets(
    args: argparse.Namespace, sides: list[tuple[str, Path]], rev_note: str, timings: Mapping[str, float]
) -> list[Path]:
    """All sheets, the index sheet and README.md in `args.out` from the caches in `sides`."""
    loaded = [
        (
            label,
            cache,
            json.loads((cache / "results.json").read_text()) if (cache / "results.json").is_file() else {},
        )
        for label, cache in sides
    ]
    products = [
        item for item in load_manifest(args.set) if not args.products or item["name"] in args.products
    ]
    rows = _select_rows(args.rows)
    fonts = Fonts()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for row in rows:
        note = f"{rev_note.replace('`', '')}; cutout {args.cutout}; outputs {OUTPUT_SIZE[0]}x{OUTPUT_SIZE[1]}"
        sheet = build_sheet(row, products, args.set, loaded, args.cell, fonts, note)
        path = out / f"{row.row_id}.jpg"
        size = _save_sheet(path, sheet)
        written.append(path)
        print(f"wrote {path} {sheet.width}x{sheet.height} {size // 1024} KB")
    index = build_index(rows, products, loaded, fonts)
    _save_sheet(out / "index.jpg", index)
    written.append(out / "index.jpg")
    (out / "README.md").write_text(_readme(rows, products, loaded, rev_note, timings, fonts))
    return written


def _changed(row: Row, products: list[dict[str, Any]], sides: list[tuple[str, Path, dict[str, Any]]]) -> str:
    """How many products' cells differ between the two sides (mean difference over 1 level)."""
    count = 0
    for item in products:
        job_id = f"{row.row_id}__{item['name']}"
        for variant in range(1, VARIANTS + 1):
            paths = [cache / "cells" / f"{job_id}__v{variant}.jpg" for _label, cache, _results in sides]
            if not all(path.is_file() for path in paths):
                continue
            a, b = (_read_rgb(path).astype(np.int16) for path in paths)
            if a.shape != b.shape or float(np.abs(a - b).mean()) > 1.0:
                count += 1
                break
    return f"{count}/{len(products)}"


def _readme(
    rows: list[Row],
    products: list[dict[str, Any]],
    sides: list[tuple[str, Path, dict[str, Any]]],
    rev_note: str,
    timings: Mapping[str, float],
    fonts: Fonts,
) -> str:
    seconds = [
        job["seconds"]
        for _l, _c, results in sides
        for job in results.get("jobs", {}).values()
        if "seconds" in job
    ]
    changed_head = "products changed" if len(sides) == 2 else "-"
    lines = [
        "# Local engine gallery (issue 13)",
        "",
        "By-eye judging sheets made by `bench/gallery.py`: each product photo of `bench/gallery_set/`",
        f"composed by the local engine on each prompt, {VARIANTS} variants per side, "
        f"{OUTPUT_SIZE[0]}x{OUTPUT_SIZE[1]} outputs shown small.",
        f"Columns: the photo | {' | '.join(f'{label} v{v + 1}' for label, _c, _r in sides for v in range(VARIANTS))}.",
        "",
        f"- {rev_note}",
        f"- cutout: {sides[-1][2].get('cutout', '?')}; {len(products)} products x {len(rows)} prompts; "
        f"median {float(np.median(seconds)) if seconds else 0:.2f} s per job ({VARIANTS} variants)",
    ]
    totals = [
        f"{label} {sum(job.get('seconds', 0) for job in results.get('jobs', {}).values()):.0f} s"
        for label, _c, results in sides
    ]
    lines.append(
        "- engine time, summed over jobs (the model runs once per photo and side, its map is reused): "
        + ", ".join(totals)
    )
    if timings:
        lines.append(
            "- this run (cached jobs are not redone): "
            + ", ".join(f"{name} {value:.0f} s" for name, value in timings.items())
        )
    if not fonts.found:
        lines.append("- no CJK font was found: Chinese labels show as boxes (install fonts-noto-cjk)")
    lines += [
        "",
        "Rerun: `.venv/bin/python bench/gallery.py` (add `--only-after` to keep the cached before;",
        "`bench/gallery.py sheet` re-assembles from the cache). Full-size outputs (JPEG q90) are in",
        "`bench/results/gallery/<side>/full/`, render logs and the engine's notes per job in `results.json` there.",
        "",
        "![all prompts](index.jpg)",
        "",
        f"| # | prompt | sheet | words used | words ignored | reading | {changed_head} |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        readings = []
        for label, _cache, results in sides:
            notes = _row_notes(results, row) or {}
            readings.append((label, notes))
        notes = readings[-1][1]
        if row.scene_id:
            used, ignored, reading = "-", "-", f"scene recipe `{row.scene_id}`"
        else:
            used = ", ".join(notes.get("words_used") or []) or "-"
            ignored = ", ".join(notes.get("words_ignored") or []) or "none"
            reading = str(notes.get("reading", "?"))
            for label, other in readings[:-1]:
                if other and (other.get("reading"), other.get("words_ignored")) != (
                    notes.get("reading"),
                    notes.get("words_ignored"),
                ):
                    reading += f" ({label}: {other.get('reading')}; ignored {', '.join(other.get('words_ignored') or []) or 'none'})"
        title = row.title.replace("|", "/")
        changed = _changed(row, products, sides) if len(sides) == 2 else "-"
        lines.append(
            f"| {row.row_id[:2]} | {title} | [{row.row_id}.jpg]({row.row_id}.jpg) | {used} | {ignored} | {reading} | {changed} |"
        )
    lines += ["", "Products:", ""]
    for item in products:
        lines.append(
            f"- `{item['name']}`: {item['product']} on a {item['setting']} background, {item['size'][0]}x{item['size'][1]}"
        )
    return "\n".join(lines) + "\n"


# -------------------------------------------------------------------------- main
def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", nargs="?", default="run", choices=("run", "make", "render", "sheet"))
    parser.add_argument("--make", action="store_true", help="regenerate bench/gallery_set/ and stop")
    parser.add_argument("--before", default=BEFORE_REV, help="git revision of the 'before' engine")
    parser.add_argument("--cutout", choices=("fast", "best"), default="fast")
    parser.add_argument("--only-after", action="store_true", help="do not re-render 'before' if it is cached")
    parser.add_argument("--products", nargs="*", default=None, help="product names (default: all)")
    parser.add_argument("--rows", nargs="*", default=None, help="row ids or their numbers (default: all)")
    parser.add_argument("--cell", type=int, default=CELL, help="sheet cell side in px")
    parser.add_argument("--jobs", type=int, choices=(1, 2), default=2, help="render both sides at once (2)")
    parser.add_argument("--set", type=Path, default=SET_DIR, help="product photo folder")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="sheet folder (render: cache folder)")
    parser.add_argument("--cache", type=Path, default=CACHE_DIR)
    parser.add_argument("--code", type=Path, default=ROOT, help="render: the code tree to run")
    parser.add_argument("--threads", type=int, default=2, help="render: model and OpenCV threads")
    parser.add_argument("--size", type=int, default=None, help="make: long side of every photo")
    parser.add_argument("--no-before", action="store_true", help="only the working tree (no before columns)")
    return parser


def run(args: argparse.Namespace) -> int:
    if not (args.set / "manifest.json").is_file():
        make_set(args.set, args.size)
    cache: Path = args.cache
    sides: list[tuple[str, Path, Path]] = []
    rev_note = "after = the working tree"
    if not args.no_before:
        before_code = export_revision(args.before, cache)
        commit = (before_code / ".exported").read_text().strip()
        before_cache = cache / f"before-{commit[:12]}-{args.cutout}"
        sides.append(("before", before_code, before_cache))
        rev_note = f"before = {commit[:7]} (`git archive`, run in its own process); after = the working tree"
    sides.append(("after", ROOT, cache / f"after-{args.cutout}"))
    timings: dict[str, float] = {}
    pending = []
    threads = 1 if args.jobs == 2 and len(sides) == 2 else 2
    started = time.perf_counter()
    for label, code, side_cache in sides:
        if label == "before" and args.only_after and (side_cache / "results.json").is_file():
            print(f"before: using the cache in {side_cache}")
            continue
        side_cache.mkdir(parents=True, exist_ok=True)
        log = side_cache / "render.log"
        print(f"{label}: rendering {code} -> {side_cache} (log: {log})", flush=True)
        child = render_in_process(code, side_cache, args, threads, log)
        if args.jobs == 1:
            child.wait()
        pending.append((label, child, log))
    for label, child, log in pending:
        if child.wait() != 0:
            print(log.read_text()[-3000:], file=sys.stderr)
            raise SystemExit(f"{label} render failed (exit {child.returncode}); see {log}")
        side_cache = next(c for lbl, _code, c in sides if lbl == label)
        results = json.loads((side_cache / "results.json").read_text())
        timings[f"{label} render"] = float(results["seconds"])
        print(
            f"{label}: {results['rendered']} jobs rendered, {results['reused']} cached, {results['seconds']} s"
        )
    timings["renders (wall)"] = time.perf_counter() - started
    start = time.perf_counter()
    write_sheets(args, [(label, side_cache) for label, _code, side_cache in sides], rev_note, timings)
    print(f"sheets: {time.perf_counter() - start:.1f} s; total {time.perf_counter() - started:.0f} s")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.make or args.command == "make":
        make_set(args.set, args.size, args.products)
        return 0
    if args.command == "render":
        render(
            args.code.resolve(),
            args.out.resolve(),
            args.set.resolve(),
            quality=args.cutout,
            products=args.products,
            row_ids=args.rows,
            cell=args.cell,
            threads=args.threads,
        )
        return 0
    if args.command == "sheet":
        return sheet_only(args)
    return run(args)


def sheet_only(args: argparse.Namespace) -> int:
    """Re-assemble the sheets from whatever the cache holds (no rendering)."""
    sides: list[tuple[str, Path]] = []
    rev_note = "after = the working tree"
    if not args.no_before:
        commit = resolve(args.before)
        sides.append(("before", args.cache / f"before-{commit[:12]}-{args.cutout}"))
        rev_note = f"before = {commit[:7]} (`git archive`, run in its own process); after = the working tree"
    sides.append(("after", args.cache / f"after-{args.cutout}"))
    write_sheets(args, sides, rev_note, {})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
