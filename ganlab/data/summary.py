"""What ganlab would train on for a user's file or folder, without training.

`describe(path)` -> a JSON-friendly dict, the same for the CLI's
`python -m ganlab data PATH [--json]` and the pages' upload widgets:

points: {"kind": "points", "file", "n", "dims", "columns", "ignored", "separator",
         "decimal", "header", "encoding", "offset", "notes", "classes", "class_counts"}
images: {"kind": "images", "file", "n", "shape" [C, H, W], "classes", "class_counts",
         "ignored", "unreadable", "system_files", "notes"}

"classes" (names, in order) and "class_counts" ({name: count}) are in both kinds:
a points file's label column, an image folder's class folders; [] and {} without.

"ignored" is a list of {"name", "reason"} in both kinds (columns for points;
files and zip members for images). Failures are DataError / ConfigError naming
the file, the row or member, and the fix.
"""
from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from ganlab.data.images import IMAGE_SUFFIXES, load_image_folder
from ganlab.data.points import format_offset, parse_points, read_points, to_float32
from ganlab.errors import DataError


def is_image_source(path: Path) -> bool:
    """A folder, a zip archive (by content), or any file named .zip: the image loader's kind of
    input (a .zip that is not an archive then gets the loader's "not a readable zip file")."""
    return path.is_dir() or (path.is_file() and (path.suffix.lower() == ".zip" or zipfile.is_zipfile(path))
                             and path.suffix.lower() not in (".npy", ".xlsx"))


def describe(path: str | Path, image_size: int = 0, channels: int = 0) -> dict[str, Any]:
    """Summary dict of what `points_file` / `image_folder` would load from `path` (see module doc).

    image_size / channels are the image loader's options (0 = defaults). Raises
    DataError when the path does not exist or cannot be used.
    """
    p = Path(path).expanduser()
    if not p.exists():
        raise DataError(f"{p} does not exist; give a points file (.csv / .txt / .npy), "
                        "an image folder or a .zip of pictures")
    if is_image_source(p):
        return describe_images(p, image_size, channels)
    if p.suffix.lower() in IMAGE_SUFFIXES:
        raise DataError(f"{p} is a single picture; put your pictures in a folder or a .zip "
                        "(sub-folders become classes) and give that")
    points, summary = read_points(p)
    return _points_dict(points, summary)


def describe_points_bytes(data: bytes, name: str) -> dict[str, Any]:
    """The summary dict of an uploaded points file (its bytes and its own name); `parse_points`
    checks the size."""
    points, summary = parse_points(data, name)
    return _points_dict(points, summary)


def _points_dict(points, summary) -> dict[str, Any]:
    d = summary.to_dict()
    _, offset = to_float32(points)
    d["offset"] = None if offset is None else [float(v) for v in offset]
    if offset is not None:
        d["notes"] = [*d["notes"], f"far from the origin: training works on the points minus "
                                   f"{format_offset(offset)} (float32 precision)"]
    return d


def describe_images(path: str | Path, image_size: int = 0, channels: int = 0) -> dict[str, Any]:
    """The summary dict of an image folder or zip (decodes every picture, as training would)."""
    ds = load_image_folder(path, image_size, channels)
    counts = ds.y.bincount(minlength=max(ds.info.num_classes, 1)).tolist()
    return {
        "kind": "images",
        "file": Path(path).name,
        "n": len(ds),
        "shape": list(ds.info.shape),
        "classes": list(ds.info.class_names),
        "class_counts": dict(zip(ds.info.class_names, counts)) if ds.info.class_names else {},
        "ignored": [{"name": k, "reason": v} for k, v in ds.extras["skipped"].items()],
        "unreadable": len(ds.extras["unreadable"]),
        "system_files": ds.extras["system_files"],
        "notes": list(ds.extras["notes"]),
    }


def format_text(summary: dict[str, Any]) -> str:
    """A summary dict -> the lines `python -m ganlab data PATH` prints."""
    s = summary
    if s["kind"] == "points":
        lines = [f"points file: {s['file']}",
                 f"  n: {s['n']}",
                 f"  dims: {s['dims']}",
                 f"  columns used: {', '.join(s['columns'])}",
                 f"  separator: {s['separator'] or '(npy)'}, decimal mark: {s['decimal']!r}, "
                 f"header: {'yes' if s['header'] else 'no'}, encoding: {s['encoding']}"]
        if s["class_counts"]:
            shown = list(s["class_counts"].items())
            more = f", ... and {len(shown) - 20} more" if len(shown) > 20 else ""
            lines.append(f"  classes in the label column (not used for training): "
                         f"{', '.join(f'{k} ({v})' for k, v in shown[:20])}{more}")
    else:
        classes = ", ".join(f"{k} ({v})" for k, v in s["class_counts"].items()) or "none (unlabelled)"
        lines = [f"images: {s['file']}",
                 f"  n: {s['n']}",
                 f"  shape: [{', '.join(map(str, s['shape']))}]",
                 f"  classes: {classes}",
                 f"  unreadable: {s['unreadable']}, system files ignored: {s['system_files']}"]
    if s["ignored"]:
        lines.append("  ignored:")
        lines += [f"    {d['name']}: {d['reason']}" for d in s["ignored"][:50]]
        if len(s["ignored"]) > 50:
            lines.append(f"    ... and {len(s['ignored']) - 50} more")
    lines += [f"  note: {n}" for n in s["notes"]]
    return "\n".join(lines)
