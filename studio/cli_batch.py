"""`python -m studio batch MANIFEST` and `python -m studio export BATCH_ID`: catalogues from scripts.

`batch` checks every row first (a table of problems on stderr and exit 2, nothing
spent), then runs the batch with this process's worker, printing one progress
line per change on stderr and one JSON summary on stdout at the end. Interrupted
(Ctrl-C, a crash, a reboot), it is resumed with `batch --resume BATCH_ID`, or by
the app, without submitting anything twice. Exit 0 when every item succeeded,
1 when some failed or the batch stopped (budget, pause, cancel, timeout).
Image links in the manifest go through the guarded fetch (`providers.fetch`): public
addresses only, unless `--allow-local-network` vouches for this machine's network.
`batch --check` only checks: exit 0 when every row is fine, 2 when any has a problem.

`export` writes the approved images of a batch in a marketplace's form to a
folder, with export.csv.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

from imaging.marketplace import PRESETS, Preset, custom_preset
from providers.base import Money, Operation
from studio.batches import BatchError
from studio.errors import StudioError
from studio.export import DEFAULT_TEMPLATE
from studio.jobs import BatchProgress, BatchStatus
from studio.manifest import (
    BatchDefaults,
    ManifestError,
    download_local_url,
    download_url,
    plan_from_manifest,
)
from studio.service import Studio
from studio.settings import load_settings

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
# How often the progress line is looked at: the run's end is noticed within this.
_TICK_S = 0.2
# How long the CLI waits, after the last job, for the output checks still running.
_CHECKS_WAIT_S = 300.0


class BatchUsageError(StudioError):
    """Bad input for batch/export; one line for stderr, exit 2."""


def cli_actor() -> str:
    """Who the CLI records as having done something: "cli:<the operating-system user>".

    Not "local": the audit list then tells a cron job or a script from the person at the
    browser, and a shared server's admins see which account ran it.
    """
    try:
        user = getpass.getuser().strip().lower()
    except (OSError, KeyError, ImportError):
        user = ""
    return f"cli:{user}" if user else "cli"


def add_commands(commands: Any) -> None:
    batch = commands.add_parser(
        "batch", help="check a CSV/XLSX manifest, run it as one batch and print a JSON summary"
    )
    batch.add_argument("manifest", nargs="?", metavar="MANIFEST", help="CSV or XLSX, one row per product")
    batch.add_argument("--resume", metavar="BATCH_ID", help="wait for (and resume) an existing batch instead")
    batch.add_argument(
        "--budget", nargs=2, metavar=("AMOUNT", "CURRENCY"), help="stop before spending more, e.g. 5 CNY"
    )
    batch.add_argument("--name", default="", metavar="TEXT", help="a name to find the batch by")
    batch.add_argument("--workflow", choices=[op.value for op in Operation], help="for rows without one")
    batch.add_argument("--provider", metavar="NAME", help="for rows without one")
    batch.add_argument("--scene", metavar="ID", help="for rows without one")
    batch.add_argument("--prompt", default="", metavar="TEXT", help="for rows without one")
    batch.add_argument("--fit", action="store_true", help="downscale photos larger than the provider takes")
    batch.add_argument(
        "--check",
        action="store_true",
        help="only check the manifest and print the estimate: exit 0 when every row is fine, "
        "2 when any row has a problem (nothing is started either way)",
    )
    batch.add_argument(
        "--allow-local-network",
        action="store_true",
        help="let manifest links point to this machine and its private network (trusted networks only)",
    )
    batch.add_argument(
        "--reject-flagged",
        action="store_true",
        help="reject images whose product check finds a change (colour, shape, detail, text, missing)",
    )
    batch.add_argument("--timeout", type=float, default=24 * 3600.0, metavar="S", help="seconds to wait")
    batch.set_defaults(handler=run_batch)

    export = commands.add_parser("export", help="write a batch's approved images in a marketplace's form")
    export.add_argument("batch_id", metavar="BATCH_ID")
    add_preset_arguments(export, default="original")
    export.add_argument(
        "--allow-noncompliant",
        action="store_true",
        help="also export images that still break the preset's rules (they are left out otherwise)",
    )
    export.add_argument(
        "--skip-upscaled", action="store_true", help="leave out images enlarged more than 1.5x"
    )
    export.add_argument(
        "--ai-label", action="store_true", help="draw the visible AI label (AI生成) on each image"
    )
    export.add_argument("--template", default=DEFAULT_TEMPLATE, metavar="T", help="file name, e.g. {sku}_{n}")
    export.add_argument("--all", action="store_true", help="every image of the batch, not only approved")
    export.add_argument("--out", required=True, metavar="DIR", help="folder to write to (created)")
    export.set_defaults(handler=run_export)


def add_preset_arguments(parser: argparse.ArgumentParser, default: str | None) -> None:
    """--preset and the custom preset's --size/--background/--quality/--max-kb (export, inspect)."""
    parser.add_argument("--preset", default=default, help=f"{', '.join(PRESETS)} or custom (with --size)")
    parser.add_argument("--size", metavar="WxH", help="output size for --preset custom")
    parser.add_argument("--background", metavar="#RRGGBB", help="custom: cut out onto this colour")
    parser.add_argument("--quality", type=int, default=90, metavar="Q", help="custom: JPEG quality")
    parser.add_argument("--max-kb", type=int, metavar="KB", help="custom: largest file size")


# ---------------------------------------------------------------- batch
def run_batch(args: argparse.Namespace) -> int:
    if bool(args.manifest) == bool(args.resume):
        raise BatchUsageError("give a MANIFEST to start a batch, or --resume BATCH_ID to continue one")
    budget = _budget(args.budget) if args.budget else None
    studio = Studio(load_settings())
    try:
        if args.resume:
            batch_id = args.resume
            batch = studio.batches.get(batch_id)
            if batch is None:
                raise BatchUsageError(f"there is no batch '{batch_id}'")
            if batch.status is BatchStatus.PAUSED and batch.pause_reason == "user":
                studio.batches.resume(batch_id, by=cli_actor())
        else:
            batch_id = _start(studio, args, budget)
            if batch_id is None:
                return EXIT_OK if args.check else EXIT_USAGE
        studio.start_worker()
        progress = _wait(studio, batch_id, args.timeout)
        flagged = _checked(studio, batch_id)
    finally:
        studio.close()
    summary = batch_summary(progress)
    summary["flagged"] = flagged
    _print_json(summary)
    return (
        EXIT_OK if summary["status"] == "done" and progress.by_status.get("failed", 0) == 0 else EXIT_FAILED
    )


def _start(studio: Studio, args: argparse.Namespace, budget: Money | None) -> str | None:
    path = Path(args.manifest)
    if not path.exists():
        raise BatchUsageError(f"cannot read the manifest '{path}': no such file")
    # A folder, device or FIFO is refused by the manifest reader (regular files only, bounded).
    defaults = BatchDefaults(
        workflow=Operation(args.workflow) if args.workflow else None,
        provider=args.provider,
        scene=args.scene,
        prompt=args.prompt,
        fit=args.fit,
    )
    if not args.check:
        # The cutout model loads while the manifest is read, not when the first photo's turn comes:
        # the first vendor call of the batch then waits for one cutout only.
        threading.Thread(target=studio.segmenter, name="warm-cutout-model", daemon=True).start()
    try:
        # Links are guarded like the web page's unless the user vouches for the local network.
        download = download_local_url if getattr(args, "allow_local_network", False) else download_url
        plan = plan_from_manifest(studio, path, defaults, download=download)
    except ManifestError as exc:
        raise BatchUsageError(str(exc)) from None
    _say(
        f"{count_text(len(plan.items), 'item')} ready, {count_text(plan.problem_count, 'problem')}; "
        f"estimate: {_estimate_text(plan)}"
    )
    for problem in plan.problems:
        where = f"row {problem.row}" if problem.row else "file"
        sku = f" ({problem.sku})" if problem.sku else ""
        _say(f"  {where}{sku}, {problem.column}: {problem.message}")
    if plan.problem_count > len(plan.problems):
        _say(f"  ... and {plan.problem_count - len(plan.problems)} more like these")
    if plan.problems:
        if args.check:  # exit 2, like a batch that refuses to start, so scripts can tell
            raise BatchUsageError("the manifest has problems: fix the rows above and check it again")
        _say("nothing was started: fix the rows above and run the command again")
        return None
    if args.check:
        return None
    if budget is not None:
        for currency in plan.estimate:
            if currency != budget.currency:
                _say(f"note: the budget counts {budget.currency} only; {currency} spend is not capped")
    try:
        batch_id = studio.batches.start(
            plan.items,
            name=args.name,
            budget=budget,
            source="cli",
            by=cli_actor(),
            reject_flagged=bool(getattr(args, "reject_flagged", False)),
        )
    except BatchError as exc:
        raise BatchUsageError(str(exc)) from None
    _say(f"batch {batch_id} started ({len(plan.items)} items)")
    return batch_id


def _wait(studio: Studio, batch_id: str, timeout_s: float) -> BatchProgress:
    deadline = time.monotonic() + timeout_s
    last = ""
    while True:
        progress = studio.batches.progress(batch_id)
        line = progress_line(progress)
        if line != last:
            _say(line)
            last = line
        status = progress.batch.status
        if status in (BatchStatus.DONE, BatchStatus.CANCELED) and progress.remaining == 0:
            return progress
        if status is BatchStatus.PAUSED and not _in_flight(progress):
            _say(f"the batch is paused ({progress.batch.pause_reason}); resume with --resume {batch_id}")
            return progress
        if time.monotonic() > deadline:
            _say(f"still running after {timeout_s:g} s; continue with --resume {batch_id}")
            return progress
        time.sleep(_TICK_S)


def _checked(studio: Studio, batch_id: str) -> int | None:
    """The batch's images flagged by the output check, once the checks still running are done
    (None: checks are off)."""
    if not studio.output_checks.enabled:
        return None
    if not studio.check_queue.drain(_CHECKS_WAIT_S):
        _say("note: some images are still being checked; see them on the Review page")
    studio.output_checks.sweep(limit=1_000, batch_id=batch_id)
    return sum(flagged for flagged, _ in studio.batches.flagged_share(batch_id).values())


def _in_flight(progress: BatchProgress) -> int:
    return sum(
        progress.by_status.get(status, 0) for status in ("queued", "submitting", "running", "downloading")
    )


def progress_line(progress: BatchProgress) -> str:
    done = progress.by_status.get("succeeded", 0)
    failed = progress.by_status.get("failed", 0)
    spent = ", ".join(f"{money.as_str()} {money.currency}" for money in progress.spent.values()) or "nothing"
    return (
        f"{progress.finished}/{progress.total} finished · {done} succeeded · {failed} failed · spent {spent}"
    )


def batch_summary(progress: BatchProgress) -> dict[str, Any]:
    """The JSON object `batch` prints at the end."""
    status = progress.batch.status
    return {
        "batch_id": progress.batch.batch_id,
        "status": str(status),
        "pause_reason": progress.batch.pause_reason,
        "items": progress.total,
        "succeeded": progress.by_status.get("succeeded", 0),
        "failed": progress.by_status.get("failed", 0),
        "canceled": progress.by_status.get("canceled", 0),
        "paused": progress.by_status.get("paused", 0),
        "pending": _in_flight(progress),
        "cost": {currency: money.as_str() for currency, money in sorted(progress.spent.items())},
        "failures": [
            {"job_id": f.job_id, "sku": f.sku, "provider": f.provider, "code": f.code, "message": f.message}
            for f in progress.failures
        ],
    }


def _budget(raw: list[str]) -> Money:
    amount, currency = raw
    try:
        budget = Money.parse(amount, currency)
    except Exception:
        raise BatchUsageError(
            f"--budget must be an amount and a currency, e.g. 5 CNY; got '{amount} {currency}'"
        ) from None
    if budget.amount_minor <= 0:
        raise BatchUsageError("--budget must be more than zero")
    return budget


def _estimate_text(plan: Any) -> str:
    parts = [f"{money.as_str()} {currency}" for currency, money in sorted(plan.estimate.items())]
    parts += [
        f"{count_text(count, 'image')} on {provider} with no known price"
        for provider, count in plan.unpriced.items()
    ]
    return "; ".join(parts) or "free"


# ---------------------------------------------------------------- export
def run_export(args: argparse.Namespace) -> int:
    preset = preset_from_args(args)
    studio = Studio(load_settings())
    try:
        try:
            report = studio.batches.export(
                args.batch_id,
                preset,
                args.template,
                Path(args.out),
                to_folder=True,
                approved_only=not args.all,
                by=cli_actor(),
                allow_noncompliant=args.allow_noncompliant,
                skip_upscaled=args.skip_upscaled,
                visible_label="AI生成" if args.ai_label else None,
                progress=lambda done, total: _say(f"{done}/{total} exported")
                if done % 10 == 0 or done == total
                else None,
            )
        except (BatchError, ValueError) as exc:
            raise BatchUsageError(str(exc)) from None
    finally:
        studio.close()
    _print_json(
        {
            "batch_id": args.batch_id,
            "preset": report.preset,
            "out": str(Path(args.out).resolve()),
            "files": [file.name for file in report.files],
            "csv": report.csv_name,
            "failed": [{"sku": f.item.sku, "code": f.code, "message": f.message} for f in report.failures],
        }
    )
    return EXIT_OK if not report.failures else EXIT_FAILED


def preset_from_args(args: argparse.Namespace) -> Preset:
    """The preset --preset names (custom: made from --size, --background, --quality, --max-kb)."""
    if args.preset != "custom":
        if args.preset not in PRESETS:
            raise BatchUsageError(
                f"--preset must be one of {', '.join(PRESETS)} or custom, got '{args.preset}'"
            )
        return PRESETS[args.preset]
    if not args.size:
        raise BatchUsageError("--preset custom needs --size WxH, e.g. --size 1000x1000")
    width, _, height = args.size.lower().replace("×", "x").partition("x")
    try:
        return custom_preset(
            int(width),
            int(height),
            background=args.background,
            jpeg_quality=args.quality,
            max_bytes=args.max_kb * 1024 if args.max_kb else None,
        )
    except ValueError as exc:
        raise BatchUsageError(str(exc)) from None


def count_text(number: int, noun: str) -> str:
    """ "1 item", "2 items": the CLI's English counts."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _say(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False) + "\n")
