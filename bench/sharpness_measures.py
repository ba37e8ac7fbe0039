"""Which sharpness measure holds on natural footage: candidates compared on the same pictures.

Run: python bench/sharpness_measures.py      (about 2 minutes)

Each natural scene (`hub.sim.natural`: day, night) is encoded through H.264 as the hub receives it
(640x360, a keyframe every 2 s, the natural set's bitrate) and its keyframe measured: clean at four
moments of slowly changing light (gain and a passing shadow), and with Gaussian blur, defocus, a dirty
lens and fog at three strengths each. For each candidate, the ratio of each picture's value to the same
scene's clean value at the first moment: a good measure keeps clean pictures near 1 and takes faults far
from it, on every scene. Candidates:
- `laplacian_160`: the variance of the Laplacian of a 160x90 thumbnail, the median of a 6x6 grid (the
  hub's measure before);
- `laplacian_full`: the same at full resolution;
- `blur_effect`: Crété-Roffet's no-reference blur (scikit-image's `blur_effect`, 1 - it, so sharp is high);
- `reblur_edges`: how much of their gradient the strongest 2 % of edges lose to a further blur;
- `energy_ratio_160`, `energy_ratio_320`: second- over first-derivative energy at 160 and 320 wide;
- `hub` (`hub.diagnostics.measures.sharpness`): that at 320 wide, less the noise's share of each.
"""

from __future__ import annotations

import io
import statistics
import sys
from pathlib import Path

import av
import cv2
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import header_markdown, machine, table_markdown, write_results  # noqa: E402

from hub.diagnostics import measures  # noqa: E402
from hub.sim import natural  # noqa: E402

FAULTS = {"blur": (1.5, 3, 6), "defocus": (1.5, 3, 6), "dirty": (0.3, 0.5, 0.7), "fog": (0.5, 0.7, 0.85)}
MOMENTS_S = (0, 60, 120, 180)


def keyframe(plan: natural.ClipPlan, offset: int = 0) -> np.ndarray:
    """The luma of the keyframe at 2 s of a 3-s clip from frame `offset` on, through H.264."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = natural.add_stream(container, plan.fps)
        for index in range(3 * plan.fps):
            frame = av.VideoFrame.from_ndarray(natural.picture(plan, index + offset), format="bgr24")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    buffer.seek(0)
    with av.open(buffer) as container:
        frames = list(container.decode(video=0))
    return frames[2 * plan.fps].to_ndarray(format="gray")


def _laplacian_variance(gray: np.ndarray, grid: int = 6) -> float:
    laplacian = measures.on_grid(cv2.Laplacian(gray, cv2.CV_16S), grid).astype(np.float32)
    means = cv2.resize(laplacian, (grid, grid), interpolation=cv2.INTER_AREA)
    squares = cv2.resize(laplacian * laplacian, (grid, grid), interpolation=cv2.INTER_AREA)
    return float(np.median(squares - means * means))


def _reblur_edges(gray: np.ndarray) -> float:
    def gradient(picture):
        return cv2.magnitude(cv2.Sobel(picture, cv2.CV_32F, 1, 0), cv2.Sobel(picture, cv2.CV_32F, 0, 1))

    values = gray.astype(np.float32)
    sharp, blurred = gradient(cv2.GaussianBlur(values, (0, 0), 1.0)), gradient(cv2.GaussianBlur(values, (0, 0), 2.5))
    strongest = sharp >= np.percentile(sharp, 98)
    return float(1 - blurred[strongest].sum() / sharp[strongest].sum())


def _energy_ratio(gray: np.ndarray, width: int) -> float:
    small = cv2.resize(gray, (width, round(gray.shape[0] * width / gray.shape[1])), interpolation=cv2.INTER_AREA)
    values = small.astype(np.float32)
    laplacian = cv2.Laplacian(values, cv2.CV_32F)
    across, down = cv2.Sobel(values, cv2.CV_32F, 1, 0), cv2.Sobel(values, cv2.CV_32F, 0, 1)
    return float((laplacian * laplacian).mean() / max(float((across * across + down * down).mean()), 1e-3))


def candidates(luma: np.ndarray) -> dict[str, float]:
    from skimage.measure import blur_effect

    core = measures.without_text_bands(luma)
    return {
        "laplacian_160": _laplacian_variance(cv2.resize(luma, (160, 90), interpolation=cv2.INTER_AREA)),
        "laplacian_full": _laplacian_variance(core),
        "blur_effect": 1 - float(blur_effect(core)),
        "reblur_edges": _reblur_edges(core),
        "energy_ratio_160": _energy_ratio(core, 160),
        "energy_ratio_320": _energy_ratio(core, 320),
        "hub": measures.sharpness(luma, measures.noise_sigma(luma))[0],
    }


def main() -> None:
    info = machine()
    scenes = [*natural.DAY_SCENES, *natural.NIGHT_SCENES]
    values: dict[str, dict[str, dict[str, float]]] = {}
    for scene in scenes:
        label = f"Cam {scene}"
        pictures = {f"clean@{s}s": keyframe(natural.ClipPlan(scene, 3, change=True, label=label), s * 5 - 100) for s in MOMENTS_S}
        for kind, strengths in FAULTS.items():
            for strength in strengths:
                pictures[f"{kind}:{strength:g}"] = keyframe(natural.ClipPlan(scene, 3, kind=kind, strength=strength, label=label))
        values[scene] = {name: candidates(luma) for name, luma in pictures.items()}
        print(scene, file=sys.stderr)
    names = list(next(iter(values.values()))["clean@0s"])
    conditions = list(next(iter(values.values())))
    ranges = {}
    for measure in names:
        ranges[measure] = {}
        for condition in conditions[1:]:
            ratios = [values[s][condition][measure] / values[s]["clean@0s"][measure] for s in scenes]
            ranges[measure][condition] = {"min": min(ratios), "median": statistics.median(ratios), "max": max(ratios)}
    clean = [c for c in conditions[1:] if c.startswith("clean")]
    rows = []
    for measure in names:
        r = ranges[measure]
        clean_low, clean_high = min(r[c]["min"] for c in clean), max(r[c]["max"] for c in clean)
        rows.append(
            [measure, f"{clean_low:.2f}-{clean_high:.2f}"]
            + [f"{r[c]['min']:.2f}-{r[c]['max']:.2f}" for c in ("defocus:1.5", "defocus:3", "blur:3", "dirty:0.5", "fog:0.7")]
        )
    print(header_markdown(info))
    print(
        table_markdown(["measure", "clean, changing light", "defocus 1.5", "defocus 3", "blur 3", "dirty 0.5", "fog 0.7"], rows)
    )
    path = write_results(
        "sharpness_measures", {"machine": info, "scenes": scenes, "values": values, "ratios": ranges, "rows": rows}
    )
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
