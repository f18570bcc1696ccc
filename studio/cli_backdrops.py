"""`python -m studio backdrops ...`: the user's backdrop library from scripts.

    backdrops add PATH [--name N] [--tag T ...] [--surface x0,y0,x1,y1] [--json]
    backdrops list [--tag T] [--json]
    backdrops show ID [--json]
    backdrops update ID [--name N] [--tag T ...] [--surface x0,y0,x1,y1] [--json]
    backdrops remove ID

ID is the backdrop's id (or its first 6+ characters, or `user:<id>`) or its name. The
surface is four fractions of the photo: a line where the product's base goes when
y0 == y1 (default: the lower third, 0,0.6667,1,0.6667), else a box. Exit codes as the
rest of the CLI: 0 done, 2 bad usage or input (one line on stderr, never a traceback).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from studio.backdrop_match import Backdrop, BackdropError, parse_surface
from studio.cli_batch import count_text
from studio.safe_files import MAX_INPUT_BYTES, FileRefused, read_regular_file
from studio.service import Studio
from studio.settings import SettingsError, load_settings

EXIT_OK, EXIT_USAGE = 0, 2


def add_commands(commands: Any) -> None:
    backdrops = commands.add_parser(
        "backdrops", help="your own backdrop photos: add, list, show, update, remove"
    )
    actions = backdrops.add_subparsers(dest="backdrops_command", metavar="{add,list,show,update,remove}")
    actions.required = True

    add = actions.add_parser("add", help="add a photo of an empty set (a marble slab, a shelf)")
    add.add_argument("path", metavar="PATH", help="the photo (JPEG, PNG, WEBP, BMP)")
    add.add_argument("--name", metavar="TEXT", help="default: the file name")
    _tag_and_surface(add)
    add.set_defaults(handler=_guarded(_add))

    listing = actions.add_parser("list", help="every backdrop, newest first")
    listing.add_argument("--tag", metavar="T", help="only backdrops with this tag")
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    listing.set_defaults(handler=_guarded(_list))

    show = actions.add_parser("show", help="one backdrop")
    show.add_argument("backdrop", metavar="ID", help="id, id prefix or name")
    show.add_argument("--json", action="store_true", help="print a JSON object")
    show.set_defaults(handler=_guarded(_show))

    change = actions.add_parser("update", help="change a backdrop's name, tags or surface")
    change.add_argument("backdrop", metavar="ID", help="id, id prefix or name")
    change.add_argument("--name", metavar="TEXT")
    _tag_and_surface(change, replaces=True)
    change.set_defaults(handler=_guarded(_update))

    remove = actions.add_parser("remove", help="remove a backdrop (jobs made with it keep their copy)")
    remove.add_argument("backdrop", metavar="ID", help="id, id prefix or name")
    remove.set_defaults(handler=_guarded(_remove))


def _tag_and_surface(parser: argparse.ArgumentParser, *, replaces: bool = False) -> None:
    parser.add_argument(
        "--tag",
        action="append",
        default=None,
        metavar="T",
        help="a word a prompt would use, English or 中文 (repeatable"
        + ("; replaces the tags)" if replaces else ")"),
    )
    parser.add_argument(
        "--surface",
        metavar="x0,y0,x1,y1",
        help="where the product stands, fractions of the photo; a line when y0 == y1"
        + ("" if replaces else " (default: the lower third line)"),
    )
    parser.add_argument("--json", action="store_true", help="print the backdrop as JSON")


def _guarded(handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Bad input (a missing file, a bad surface, an unknown id) is one line on stderr and exit 2."""

    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except (BackdropError, SettingsError) as exc:
            sys.stderr.write("error: " + " ".join(str(exc).split()) + "\n")
            return EXIT_USAGE

    return run


def _add(args: argparse.Namespace) -> int:
    path = Path(args.path)
    surface = parse_surface(args.surface) if args.surface else None
    data = _read(path)
    studio = Studio(load_settings(), worker_threads=0)
    try:
        entry = studio.backdrops.add(data, name=args.name or path.stem, tags=args.tag or (), surface=surface)
    finally:
        studio.close()
    _print_entry(entry, args.json, verb="added")
    return EXIT_OK


def _list(args: argparse.Namespace) -> int:
    studio = Studio(load_settings(), worker_threads=0)
    try:
        entries = studio.backdrops.list(args.tag)
    finally:
        studio.close()
    if args.json:
        _print_json([backdrop_to_dict(entry) for entry in entries])
        return EXIT_OK
    for entry in entries:
        tags = ", ".join(entry.tags) or "-"
        print(f"{entry.backdrop_id[:8]}  {entry.name}  [{tags}]  {_surface_text(entry)}")
    print(count_text(len(entries), "backdrop"))
    return EXIT_OK


def _show(args: argparse.Namespace) -> int:
    studio = Studio(load_settings(), worker_threads=0)
    try:
        entry = studio.backdrops.find(args.backdrop)
    finally:
        studio.close()
    _print_entry(entry, args.json)
    return EXIT_OK


def _update(args: argparse.Namespace) -> int:
    surface = parse_surface(args.surface) if args.surface else None
    if args.name is None and args.tag is None and surface is None:
        raise BackdropError(
            "backdrop_nothing_to_change", "Nothing to change: give --name, --tag or --surface.", {}
        )
    studio = Studio(load_settings(), worker_threads=0)
    try:
        entry = studio.backdrops.find(args.backdrop)
        entry = studio.backdrops.update(entry.backdrop_id, name=args.name, tags=args.tag, surface=surface)
    finally:
        studio.close()
    _print_entry(entry, args.json, verb="updated")
    return EXIT_OK


def _remove(args: argparse.Namespace) -> int:
    studio = Studio(load_settings(), worker_threads=0)
    try:
        entry = studio.backdrops.find(args.backdrop)
        studio.backdrops.delete(entry.backdrop_id)
    finally:
        studio.close()
    print(f"removed {entry.backdrop_id} {entry.name}")
    return EXIT_OK


def backdrop_to_dict(entry: Backdrop) -> dict[str, Any]:
    """A backdrop as JSON-ready values (the surface as [x0, y0, x1, y1] fractions)."""
    return {
        "backdrop_id": entry.backdrop_id,
        "scene_id": entry.scene_id,
        "name": entry.name,
        "tags": list(entry.tags),
        "surface": list(entry.surface),
        "surface_kind": "line" if entry.is_line else "box",
        "width": entry.width,
        "height": entry.height,
        "created_at": entry.created_at.isoformat(),
        "updated_at": entry.updated_at.isoformat(),
        "photo_path": entry.photo_path,
    }


def _print_entry(entry: Backdrop, as_json: bool, verb: str = "") -> None:
    if as_json:
        _print_json(backdrop_to_dict(entry))
        return
    if verb:
        print(f"{verb} {entry.backdrop_id} {entry.name}")
        return
    for key, value in backdrop_to_dict(entry).items():
        shown = json.dumps(value, ensure_ascii=False) if isinstance(value, list) else value
        print(f"{key:>12}: {shown}")


def _surface_text(entry: Backdrop) -> str:
    x0, y0, x1, y1 = entry.surface
    if entry.is_line:
        return f"line at {y0:.0%} from the top, {x0:.0%}-{x1:.0%}"
    return f"box {x0:.0%},{y0:.0%} to {x1:.0%},{y1:.0%}"


def _read(path: Path) -> bytes:
    try:
        # A regular file of at most MAX_INPUT_BYTES: /dev/zero, a FIFO or a folder is refused unread.
        return read_regular_file(path, MAX_INPUT_BYTES)
    except FileRefused as exc:
        reason = exc.reason
    raise BackdropError("file_unreadable", f"cannot read '{path}': {reason}", {"detail": str(path)})


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False) + "\n")
