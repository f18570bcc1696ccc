"""The command line (`python -m studio ...`) for scripts and cron: generate, jobs list, jobs show.

`generate` starts its own worker, submits one job (source "cli"), waits for it
and prints ONE JSON object on stdout. Exit codes: 0 the job succeeded, 1 it
failed (or did not finish within --timeout), 2 bad usage or input, 3 the data
folder (STUDIO_DATA_DIR) or its database is full, read-only or not writable, with
a one-line message on stderr that says what is wrong and what to do. A user
mistake or a full disk never shows a traceback.

This is the one module in `studio` that prints and exits; everything it does
goes through `studio.service.Studio`.
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from providers.base import EdgeGuide, GuideLayer, Money, Operation
from studio import cli_backdrops, cli_batch, cli_inspect, cli_worker
from studio.backdrop_match import BackdropError
from studio.errors import StudioError
from studio.jobs import JobFilter, JobRow, JobStatus, JobView
from studio.safe_files import MAX_INPUT_BYTES, FileRefused, read_regular_file
from studio.service import JobRequest, Studio, StudioInputError
from studio.settings import SettingsError, load_settings
from studio.storage_faults import EXIT_STORAGE, fault_folder, storage_fault
from studio.store import MAX_PAGE_SIZE

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
SIZE = re.compile(r"^\s*(\d{1,6})\s*[xX×*]\s*(\d{1,6})\s*$")


class UsageError(StudioError):
    """Bad command-line input; the message is one line for stderr."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m studio",
        description="Backdrop Studio from the command line: generate images and read the job history.",
        epilog=(
            "exit status: 0 done, 1 a job failed or timed out, 2 bad usage or input, 3 the data folder "
            "(STUDIO_DATA_DIR) is full, read-only or not writable"
        ),
    )
    commands = parser.add_subparsers(
        dest="command", metavar="{generate,jobs,batch,export,backdrops,worker,inspect,serve-address}"
    )
    commands.required = True

    generate = commands.add_parser("generate", help="run one job, wait for it and print its result as JSON")
    generate.add_argument("--workflow", required=True, choices=[op.value for op in Operation])
    generate.add_argument("--provider", required=True, metavar="NAME", help="provider key, e.g. local")
    generate.add_argument(
        "--image", required=True, metavar="PATH", help="product photo (JPEG, PNG, WEBP, BMP)"
    )
    generate.add_argument("--mask", metavar="PATH", help="mask PNG at the image's size, white = product")
    generate.add_argument("--prompt", default="", metavar="TEXT")
    generate.add_argument(
        "--reference", metavar="PATH", help="a picture of the wanted background (providers that take one)"
    )
    generate.add_argument("--negative-prompt", default="", metavar="TEXT")
    generate.add_argument(
        "--guide",
        action="append",
        default=[],
        metavar="LAYER:PATH[:PROMPT]",
        help="edge guide from an element picture, LAYER foreground or background (providers that take "
        "edge guides); repeatable",
    )
    generate.add_argument("--scene", metavar="ID", help="scene id for --workflow scene")
    generate.add_argument(
        "--backdrop",
        metavar="ID",
        help="one of your backdrops (id or name; `backdrops list`) to place the product on, local engine "
        "only; 'none' for none. Prompt jobs otherwise pick the one whose tags the prompt names",
    )
    generate.add_argument("--count", type=int, metavar="N", help="number of images (default: the provider's)")
    generate.add_argument(
        "--size", metavar="WxH", help="output size, e.g. 1000x1000 (default: the provider's)"
    )
    generate.add_argument("--seed", type=int, metavar="N", help="make the variants reproducible")
    generate.add_argument("--title", default="", metavar="TEXT", help="product title (scene workflow)")
    generate.add_argument(
        "--param", action="append", default=[], metavar="KEY=VALUE", help="provider option, repeatable"
    )
    generate.add_argument(
        "--logo",
        metavar="PATH",
        help="your own mark instead of the vendor's 'AI generated' text (providers with a logo option); "
        "place it with --param LogoRect=X,Y,WIDTH,HEIGHT (default: lower right corner)",
    )
    generate.add_argument(
        "--cutout",
        choices=("best", "fast"),
        help="automatic cutout quality: best (ISNet) or fast (u2netp); default STUDIO_CUTOUT_MODEL, else "
        "best when its model is installed (the local engine also takes --param cutout=...)",
    )
    generate.add_argument(
        "--timeout", type=float, default=600.0, metavar="S", help="seconds to wait (default 600)"
    )
    generate.add_argument(
        "--fit",
        action="store_true",
        help=(
            "make an image the provider would refuse fit: downscale it, or re-encode it as a high-quality "
            "JPEG for a byte limit; the fitted file is what is sent (the original file is not changed)"
        ),
    )
    generate.set_defaults(handler=_generate)

    jobs = commands.add_parser("jobs", help="read the job history")
    job_commands = jobs.add_subparsers(dest="jobs_command", metavar="{list,show}")
    job_commands.required = True
    listing = job_commands.add_parser("list", help="newest jobs first")
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    listing.add_argument(
        "--limit", type=int, default=20, metavar="N", help=f"at most N jobs (1-{MAX_PAGE_SIZE})"
    )
    listing.add_argument("--status", choices=[status.value for status in JobStatus])
    listing.add_argument("--provider", metavar="P")
    listing.add_argument(
        "--by", metavar="WHO", help='only jobs made by WHO (an e-mail, "local" or "cli:<user>")'
    )
    listing.set_defaults(handler=_jobs_list)
    show = job_commands.add_parser("show", help="one job with its outputs, cost and error")
    show.add_argument("job_id", metavar="ID")
    show.add_argument("--json", action="store_true", help="print a JSON object")
    show.set_defaults(handler=_jobs_show)
    cli_batch.add_commands(commands)
    cli_backdrops.add_commands(commands)
    cli_worker.add_commands(commands)
    cli_inspect.add_commands(commands)
    serve = commands.add_parser(
        "serve-address",
        help="print where the app may listen: 127.0.0.1, or 0.0.0.0 with sign-in or open_to_network",
    )
    serve.set_defaults(handler=_serve_address)
    return parser


def _serve_address(args: argparse.Namespace) -> int:
    """scripts/start.sh passes this to `streamlit run --server.address` (reads settings only)."""
    print(load_settings().access.serve_address)
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)  # usage errors exit 2 through argparse
    logging.basicConfig(level=logging.WARNING, format="studio: %(levelname)s: %(message)s", stream=sys.stderr)
    try:
        return int(args.handler(args))
    except StudioInputError as exc:
        fixable = exc.params.get("fixable") or exc.code == "provider_too_large"
        hint = " Or add --fit to make it fit (downscaled or re-encoded) for this run." if fixable else ""
        _error(str(exc) + hint)
        return EXIT_USAGE
    except (UsageError, SettingsError, cli_batch.BatchUsageError) as exc:
        _error(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:
        _error("interrupted; unfinished jobs keep their state and resume the next time the app or CLI runs")
        return 130
    except Exception as exc:
        # A full disk or a read-only data folder: one sentence saying where and what to do, no traceback.
        fault = storage_fault(exc, fault_folder(exc))
        if fault is None:
            raise
        logging.getLogger(__name__).debug("storage fault", exc_info=exc)
        _error(str(fault))
        return EXIT_STORAGE


# ---------------------------------------------------------------- generate
def _generate(args: argparse.Namespace) -> int:
    image = _read_file(args.image, "--image")
    mask = _read_file(args.mask, "--mask") if args.mask else None
    reference = _read_file(args.reference, "--reference") if args.reference else None
    size = _parse_size(args.size) if args.size else None
    params: dict[str, Any] = dict(_parse_params(args.param))
    if args.logo:
        if "LogoImage" in params:
            raise UsageError("give the logo once: --logo PATH or --param LogoImage=..., not both")
        params["LogoImage"] = base64.b64encode(_read_file(args.logo, "--logo")).decode("ascii")
    if args.timeout <= 0:
        raise UsageError(f"--timeout must be a positive number of seconds, got {args.timeout:g}")
    if args.backdrop is not None:
        if "backdrop_id" in params:
            raise UsageError("give the backdrop once: --backdrop ID or --param backdrop_id=..., not both")
        params["backdrop_id"] = args.backdrop
    studio = Studio(load_settings())
    try:
        workflow = Operation(args.workflow)
        scene = args.scene
        if workflow is Operation.SCENE_BACKGROUND and scene is None and args.backdrop not in (None, "none"):
            # The backdrop is the scene: `--workflow scene --backdrop ID` needs no --scene.
            scene = _backdrop_scene(studio, args.backdrop)
            params.pop("backdrop_id")
        studio.limits_for(args.provider, workflow)  # an unsupported workflow is refused before any work
        if args.logo and not any(
            spec.kind == "image" for spec in studio.option_specs(args.provider, workflow)
        ):
            raise UsageError(
                f"--logo: {args.provider} takes no logo of yours; drop --logo{_logo_takers(studio, workflow)}"
            )
        _warn_about_prompts(studio, args.provider, workflow, args.prompt, args.negative_prompt)
        prepared = studio.prepare_image(image, Path(args.image).name)
        if args.fit:
            # Photo and mask together, into exactly the files the vendor will get.
            fitted, mask = studio.fit_inputs(prepared, mask, args.provider, workflow)
            if fitted is not prepared:
                print(f"studio: note: {fitted.notes[-1]} to fit {args.provider}", file=sys.stderr)
            prepared = fitted
        guides = tuple(
            EdgeGuide(layer, studio.make_edge_guide(studio.prepare_image(data, name), prepared), prompt)
            for layer, data, name, prompt in _parse_guides(args.guide)
        )
        job_id = studio.submit_job(
            JobRequest(
                workflow=workflow,
                provider=args.provider,
                image=prepared,
                mask_png=mask,
                prompt=args.prompt,
                negative_prompt=args.negative_prompt,
                scene_id=scene,
                count=args.count,
                size=size,
                params=params,
                seed=args.seed,
                reference_png=reference,
                guides=guides,
                product_title=args.title,
                source="cli",
                cutout_quality=args.cutout,
            ),
            by=cli_batch.cli_actor(),
        )
        _note_unmarked(studio, studio.get_job(job_id))
        studio.start_worker()
        view = studio.wait_for_job(job_id, args.timeout)
        _warn_about_cutout(studio, view)
        if view.status is JobStatus.SUCCEEDED:
            studio.check_outputs(job_id)  # the product check, done (or waited for) now so it is printed
            view = studio.get_job(job_id) or view
    finally:
        studio.close()
    result = generate_result(view, args.timeout)
    _print_json(result)
    return EXIT_OK if view.status is JobStatus.SUCCEEDED else EXIT_FAILED


def _backdrop_scene(studio: Studio, reference: str) -> str:
    try:
        return studio.backdrops.find(reference).scene_id
    except BackdropError as exc:
        raise UsageError(str(exc)) from None


def _warn_about_prompts(
    studio: Studio, provider: str, workflow: Operation, prompt: str, negative: str
) -> None:
    """A prompt longer than the vendor reads is sent anyway; say what will be ignored (stderr)."""
    label = next((info.label for info in studio.providers() if info.key == provider), provider)
    for overflow in studio.prompt_overflows(provider, workflow, prompt, negative):
        print(f"studio: warning: {overflow.message(label)}", file=sys.stderr)


def _warn_about_cutout(studio: Studio, view: JobView) -> None:
    """The cutout fell back to the classical method because its model is missing or broken (stderr)."""
    missing = view.notes.get("cutout_model_missing")
    if isinstance(missing, str):
        state = next((item for item in studio.cutout_models_state() if item.model == missing), None)
        problem = state.problem() if state is not None else None
        print(
            f"studio: warning: {problem or f'the {missing} cutout model is missing; run scripts/fetch_model.py'}",
            file=sys.stderr,
        )


def _logo_takers(studio: Studio, workflow: Operation) -> str:
    """The hint naming the providers with an image option for `workflow`, as they declare it."""
    takers = [
        info.key
        for info in studio.providers()
        if workflow in info.operations
        and any(spec.kind == "image" for spec in studio.option_specs(info.key, workflow))
    ]
    if not takers:
        return ""
    return f" ({', '.join(takers)} {'takes' if len(takers) == 1 else 'take'} one)"


def _note_unmarked(studio: Studio, view: JobView | None) -> None:
    """A vendor's visible AI mark switched off (an `ai_mark` option set to false, e.g. Tencent's
    `LogoAdd=0`): who labels the images now (stderr)."""
    if view is None:
        return
    specs = studio.option_specs(view.provider, view.workflow)
    for spec in specs:
        if not (spec.ai_mark and view.params.get(spec.name) is False):
            continue
        print(
            f"studio: note: {spec.name}=0: the results carry no 'AI generated' mark. Chinese rules in force since "
            "September 2025 want AI-generated images labelled where they are published; labelling these "
            "is now your responsibility.",
            file=sys.stderr,
        )


def generate_result(view: JobView, timeout_s: float) -> dict[str, Any]:
    """The one JSON object `generate` prints."""
    error = _error_dict(view)
    if view.is_pending:
        error = {
            "code": "timeout",
            "message": (
                f"The job is still {view.status} after {timeout_s:g} s. It continues the next time the app "
                f"or CLI runs; check it with `python -m studio jobs show {view.job_id}`."
            ),
        }
    return {
        "job_id": view.job_id,
        "status": str(view.status),
        "provider": view.provider,
        "workflow": str(view.workflow),
        "outputs": [output.path for output in view.outputs],
        "cost": _money(view.cost),
        "error": error,
        # How the product was cut out, e.g. "isnet + matting" or "classical (model missing)";
        # None when the provider found the product itself.
        "cutout_method": view.notes.get("cutout_method"),
        # Per output, what the product check found (python -m studio inspect); None: not checked.
        "check_flags": [None if o.check_flags is None else list(o.check_flags) for o in view.outputs],
    }


# ---------------------------------------------------------------- jobs
def _jobs_list(args: argparse.Namespace) -> int:
    if not 1 <= args.limit <= MAX_PAGE_SIZE:
        raise UsageError(f"--limit must be 1 to {MAX_PAGE_SIZE}, got {args.limit}")
    filters = JobFilter(
        statuses=(args.status,) if args.status else (),
        providers=(args.provider,) if args.provider else (),
        person=args.by.strip().lower() if args.by else None,
    )
    studio = Studio(load_settings())
    try:
        page = studio.list_jobs(filters, 1, args.limit)
    finally:
        studio.close()
    rows = [row_to_dict(row) for row in page.rows]
    if args.json:
        _print_json(rows)
    else:
        _print_table(rows, page.total)
    return EXIT_OK


def _jobs_show(args: argparse.Namespace) -> int:
    studio = Studio(load_settings())
    try:
        view = studio.get_job(args.job_id)
    finally:
        studio.close()
    if view is None:
        raise UsageError(f"there is no job '{args.job_id}'; list job ids with `python -m studio jobs list`")
    data = job_to_dict(view)
    if args.json:
        _print_json(data)
    else:
        for key, value in data.items():
            if key == "outputs":
                for output in value:
                    print(
                        f"{'output ' + str(output['index']):>16}: {output['path']} ({output['width']}x{output['height']})"
                    )
            elif value not in (None, "", [], {}):
                shown = json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value
                print(f"{key:>16}: {shown}")
    return EXIT_OK


def job_to_dict(view: JobView) -> dict[str, Any]:
    """Every JobView field as JSON-ready values (times ISO 8601 UTC, money as a decimal string)."""
    return {
        "job_id": view.job_id,
        "status": str(view.status),
        "workflow": str(view.workflow),
        "provider": view.provider,
        "created_at": _iso(view.created_at),
        "updated_at": _iso(view.updated_at),
        "started_at": _iso(view.started_at),
        "finished_at": _iso(view.finished_at),
        "duration_s": view.duration_s,
        "prompt": view.prompt,
        "negative_prompt": view.negative_prompt,
        "scene_id": view.scene_id,
        "product_title": view.product_title,
        "count": view.count,
        "size": list(view.size) if view.size else None,
        "seed": view.seed,
        "params": view.params,
        "input_path": view.input_path,
        "mask_path": view.mask_path,
        "used_mask_path": view.used_mask_path,
        "reference_path": view.reference_path,
        "remote_id": view.remote_id,
        "attempts": view.attempts,
        "images": view.images,
        "outputs": [
            {
                "index": output.index,
                "path": output.path,
                "width": output.width,
                "height": output.height,
                "seed": output.seed,
                "thumbnail_path": output.thumbnail_path,
                "source_url": output.source_url,
                # What the output check found (issue 17): None until checked.
                "check_flags": None if output.check_flags is None else list(output.check_flags),
                "checks": output.checks,
                "review": output.review,
            }
            for output in view.outputs
        ],
        "cost": _money(view.cost),
        "cost_estimate": _money(view.cost_estimate),
        "error": _error_dict(view),
        "notes": view.notes,
        "prompt_reading": prompt_reading(view.notes),
        "source": view.source,
        "batch_id": view.batch_id,
        "created_by": view.created_by,
    }


def prompt_reading(notes: dict[str, Any]) -> dict[str, Any] | None:
    """How the local engine read a job's prompt: the words it used and ignored and what it made of
    them (the set: surface, light, camera...; a place it could only approximate; the user's
    backdrop it placed the product on). None for jobs the engine did not read a prompt for."""
    if "words_used" not in notes and "scene_plan" not in notes:
        return None
    plate = notes.get("backdrop_plate")
    return {
        "words_used": notes.get("words_used", []),
        "words_ignored": notes.get("words_ignored", []),
        "reading": notes.get("reading"),
        "scene": notes.get("scene_plan"),
        "variants": notes.get("scene_variants"),
        "approximation": notes.get("approximation"),
        "backdrop": plate.get("name") if isinstance(plate, dict) else None,
    }


def row_to_dict(row: JobRow) -> dict[str, Any]:
    return {
        "job_id": row.job_id,
        "created_at": _iso(row.created_at),
        "workflow": row.workflow,
        "provider": row.provider,
        "status": row.status,
        "images": row.images,
        "duration_s": row.duration_s,
        "cost": {"amount": row.cost_amount, "currency": row.cost_currency} if row.cost_amount else None,
        "error": (
            {"code": row.error_code, "message": row.error_message or ""}
            if row.error_code and row.status == JobStatus.FAILED
            else None
        ),
        "prompt": row.prompt,
        "created_by": row.created_by,
    }


# ---------------------------------------------------------------- helpers
def _read_file(path: str, option: str) -> bytes:
    """A regular file of at most MAX_INPUT_BYTES: /dev/zero, a FIFO or a folder is refused unread."""
    try:
        return read_regular_file(path, MAX_INPUT_BYTES)
    except FileRefused as exc:
        raise UsageError(f"cannot read {option} '{path}': {exc.reason}", exc.code, exc.params) from None


def _parse_size(text: str) -> tuple[int, int]:
    match = SIZE.match(text)
    if not match:
        raise UsageError(f"--size must look like 1000x1000 (width x height in pixels), got '{text}'")
    return int(match.group(1)), int(match.group(2))


def _parse_params(items: Sequence[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--param expects KEY=VALUE, got '{item}'")
        params[key.strip()] = value.strip()
    return params


def _money(money: Money | None) -> dict[str, str] | None:
    return {"amount": money.as_str(), "currency": money.currency} if money else None


def _error_dict(view: JobView) -> dict[str, str] | None:
    if view.error is None or view.status is not JobStatus.FAILED:
        return None
    return {"code": view.error.code, "message": view.error.message}


def _iso(moment: Any) -> str | None:
    return None if moment is None else str(moment.isoformat())


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False) + "\n")


def _print_table(rows: list[dict[str, Any]], total: int) -> None:
    headers = ("created (UTC)", "job id", "status", "workflow", "provider", "images", "cost", "by", "error")
    lines = [
        (
            (row["created_at"] or "")[:19].replace("T", " "),
            row["job_id"],
            row["status"],
            row["workflow"],
            row["provider"],
            str(row["images"]),
            f"{row['cost']['amount']} {row['cost']['currency']}" if row["cost"] else "-",
            row["created_by"] or "-",
            row["error"]["code"] if row["error"] else "",
        )
        for row in rows
    ]
    widths = [
        max(len(h), *(len(line[i]) for line in lines)) if lines else len(h) for i, h in enumerate(headers)
    ]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for line in lines:
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
    print(f"{len(rows)} of {total} {'job' if total == 1 else 'jobs'}")


def _error(message: str) -> None:
    sys.stderr.write("error: " + " ".join(message.split()) + "\n")


def _parse_guides(specs: Sequence[str]) -> list[tuple[GuideLayer, bytes, str, str]]:
    """`foreground:leaf.png:a green leaf` -> (layer, file bytes, file name, prompt)."""
    guides: list[tuple[GuideLayer, bytes, str, str]] = []
    for spec in specs:
        layer, _, rest = spec.partition(":")
        path, _, prompt = rest.partition(":")
        if layer not in ("foreground", "background") or not path:
            raise UsageError(
                f"--guide '{spec}' must be LAYER:PATH[:PROMPT] with LAYER foreground or background, "
                "e.g. --guide foreground:leaf.png:a green leaf"
            )
        guides.append(
            (
                "foreground" if layer == "foreground" else "background",
                _read_file(path, "--guide"),
                Path(path).name,
                prompt,
            )
        )
    return guides
