"""MediaPipe's person, pose and face models: where they live and how they get there.

The scale from people reads the main person's pose with Google's MediaPipe models (BlazePose's
detector and its full landmark model, BlazeFace's full-range face detector; Apache 2.0, see
docs/people.md). They ship inside the ``mediapipe`` wheel of the Python registry
(:data:`MEDIAPIPE`), which cannot be installed beside this project (it pins an old protobuf and a
second OpenCV), so :func:`fetch_people_models` takes the three ``.tflite`` files out of that wheel once
(``pip download``, nothing installed) and checks each one's SHA-256. They go to
:func:`models_dir`; at run time nothing is downloaded: without them the estimate falls back to
OpenCV's own detectors and says so.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from ..errors import ModelLoadError
from ..files import atomic_write_bytes, cache_dir
from ..provenance import file_sha256

MEDIAPIPE = "mediapipe==0.10.9"  # the last wheel that carries the .tflite files (1.x downloads them)
# the wheel pip is asked for: the files are the same in every platform's wheel of a release
WHEEL_TAGS = ("--platform", "manylinux2014_x86_64", "--python-version", "3.11", "--implementation", "cp",
              "--abi", "cp311")
MODEL_FILES: dict[str, tuple[str, str]] = {  # name: (member of the wheel, SHA-256)
    "pose_detection": ("mediapipe/modules/pose_detection/pose_detection.tflite",
                       "9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c"),
    "pose_landmark": ("mediapipe/modules/pose_landmark/pose_landmark_full.tflite",
                      "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f"),
    "face_detection": ("mediapipe/modules/face_detection/face_detection_full_range_sparse.tflite",
                       "2c3728e6da56f21e21a320433396fb06d40d9088f2247c05e5635a688d45dfe1"),
}
FETCH_HINT = "shotscope fetch-people-models"


def models_dir() -> Path:
    """Where the model files are kept: ``$SHOTSCOPE_PEOPLE_MODELS``, else the user's cache."""
    return Path(os.environ.get("SHOTSCOPE_PEOPLE_MODELS") or cache_dir() / "people" / MEDIAPIPE.replace("==", "-"))


def model_paths(folder: str | os.PathLike | None = None) -> dict[str, Path] | None:
    """The three model files in ``folder`` (default :func:`models_dir`), or None when any is
    missing. A file that is there but not the one expected is an error naming it."""
    folder = Path(folder) if folder is not None else models_dir()
    paths = {name: folder / Path(member).name for name, (member, _) in MODEL_FILES.items()}
    if not all(p.is_file() for p in paths.values()):
        return None
    for name, path in paths.items():
        if file_sha256(path) != MODEL_FILES[name][1]:
            raise ModelLoadError(f"{path}: not MediaPipe's {Path(MODEL_FILES[name][0]).name} of {MEDIAPIPE} "
                                 f"(its SHA-256 differs): remove it and run `{FETCH_HINT}`")
    return paths


def _download_wheel(target: Path) -> Path:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", *WHEEL_TAGS,
           "--dest", str(target), "--quiet", MEDIAPIPE]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True)
    except OSError as exc:
        raise ModelLoadError(f"pip could not be run ({exc}): download the {MEDIAPIPE} wheel elsewhere and "
                             f"pass it with `{FETCH_HINT} --wheel FILE`") from exc
    wheels = sorted(target.glob("mediapipe-*.whl"))
    if done.returncode != 0 or not wheels:
        reason = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no wheel came"]
        raise ModelLoadError(f"the {MEDIAPIPE} wheel could not be downloaded ({reason[0]}): on a machine "
                             f"without the registry, pass a copy with `{FETCH_HINT} --wheel FILE`")
    return wheels[0]


def fetch_people_models(folder: str | os.PathLike | None = None, wheel: str | os.PathLike | None = None) -> dict[str, Path]:
    """Put the three model files into ``folder`` (default :func:`models_dir`), taken from
    ``wheel`` (a downloaded ``mediapipe`` 0.10.9 wheel) or from one pip downloads now. Each file is
    checked against its SHA-256 and written through a temporary file, so a run cut short leaves
    nothing half-written. Files already there and right are kept."""
    folder = Path(folder) if folder is not None else models_dir()
    try:
        have = model_paths(folder)
    except ModelLoadError:
        have = None
    if have is not None:
        return have
    with tempfile.TemporaryDirectory(prefix="shotscope-mediapipe-") as tmp:
        source = Path(wheel) if wheel is not None else _download_wheel(Path(tmp))
        try:
            archive = zipfile.ZipFile(source)
        except (OSError, zipfile.BadZipFile) as exc:
            raise ModelLoadError(f"{source}: not a readable wheel ({exc})") from exc
        with archive:
            for member, digest in MODEL_FILES.values():
                try:
                    data = archive.read(member)
                except KeyError:
                    raise ModelLoadError(f"{source}: has no {member} (the models come from {MEDIAPIPE})") from None
                if hashlib.sha256(data).hexdigest() != digest:
                    raise ModelLoadError(f"{source}: its {member} is not the file expected (SHA-256 differs; "
                                         f"the models come from {MEDIAPIPE})")
                atomic_write_bytes(folder / Path(member).name, data)
    paths = model_paths(folder)
    assert paths is not None
    return paths
