"""Pure measures of one picture (or a picture against a reference): numbers, never verdicts.

Who runs where: anywhere (no I/O, no clock, no state); the hub will run them on the small thumbnail a
reader already makes of each sampled keyframe (160x90 for the cheap ones), and on a full-frame sample
about once a minute for the costly ones. Each takes a uint8 image: `gray` is one channel (luma), `bgr`
three (OpenCV's order). What counts as a fault is decided elsewhere (`hub.diagnostics.confirm`), against
thresholds and the camera's own baseline.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

TEXT_BAND = 0.15  # of the height, top and bottom: where cameras burn in their name and clock
CHROMA_NOISE = 2.0  # chroma levels of compression noise in a grey picture
IMMERKAER = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float32)


def mean_luma(gray: np.ndarray) -> float:
    """0 (black) to 255 (white): below 25 is too dark."""
    return float(cv2.mean(gray)[0])


def bright_share(gray: np.ndarray, level: int = 250) -> float:
    """Share of pixels at or above `level`: above 0.4 is overexposed."""
    return float(cv2.countNonZero(cv2.compare(gray, np.full_like(gray, level - 1), cv2.CMP_GT))) / gray.size


def clipped_share(gray: np.ndarray, cb: np.ndarray, cr: np.ndarray, level: int = 250) -> float:
    """Share of pixels blown out: in luma, or in two colour channels at once (a blown-out yellow sign has
    no white luma; one clipped channel is a strong colour or a cast, not exposure). The planes may be
    any sizes: luma is brought to the chroma's."""
    y, colours = _rgb(gray, cb, cr)
    clipped = [(channel >= level).astype(np.uint8) for channel in colours]
    blown = (clipped[0] + clipped[1] + clipped[2] >= 2) | (y >= level)
    return float(np.count_nonzero(blown)) / blown.size


def _rgb(gray: np.ndarray, cb: np.ndarray, cr: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """(luma, (R, G, B)) as float planes at the chroma's size (luma is brought down to it), unclipped."""
    if gray.shape != cb.shape:
        gray = cv2.resize(gray, (cb.shape[1], cb.shape[0]), interpolation=cv2.INTER_AREA)
    y, u, v = gray.astype(np.float32), _centred(cb), _centred(cr)
    return y, (y + 1.402 * v, y - 0.344 * u - 0.714 * v, y + 1.772 * u)


def veil(gray: np.ndarray, cb: np.ndarray, cr: np.ndarray) -> float:
    """How far a uniform veil of light (fog, haze, a faded signal) lifts the picture's darkest parts toward
    its brightest: the floor of its dark channel (the least of R, G and B, the darkest in each 3x3
    neighbourhood of the chroma's grid, 1st percentile) over the top of its bright channel (the most of
    R, G and B, 99th percentile), less the text bands; 0 to 1. A clear scene almost always has near-black
    somewhere (a shadow, a dark or a saturated object: the dark-channel prior of He, Sun and Tang), so
    it measures near 0; fog adds the same light everywhere and a faded picture pulls every value toward
    its mean, both lifting the floor. Light and exposure divide out. The planes may be any sizes: luma
    is brought to the chroma's."""
    red, green, blue = (without_text_bands(channel) for channel in _rgb(gray, cb, cr)[1])
    darkest = cv2.erode(cv2.min(cv2.min(red, green), blue), np.ones((3, 3), np.uint8))
    brightest = cv2.max(cv2.max(red, green), blue)
    floor, top = float(np.percentile(darkest, 1)), float(np.percentile(brightest, 99))
    return min(max(floor, 0.0) / max(top, 1.0), 1.0)


def tint(cb: np.ndarray, cr: np.ndarray) -> tuple[float, float]:
    """The picture's mean chroma (Cb, Cr) off neutral: a white balance that drifts moves it."""
    return cv2.mean(cb)[0] - 128.0, cv2.mean(cr)[0] - 128.0


def luma_std(gray: np.ndarray, band: float = TEXT_BAND) -> float:
    """Contrast: the luma standard deviation of the picture less its top and bottom bands, where a camera
    burns in its text (a black bar with white letters would hold the figure up through any fog). Judged
    against the camera's own baseline."""
    return float(cv2.meanStdDev(without_text_bands(gray, band))[1][0, 0])


def without_text_bands(gray: np.ndarray, band: float = TEXT_BAND) -> np.ndarray:
    """The picture less its top and bottom `band` (a share of the height), where cameras burn in their
    name and clock: text that stays put and sharp whatever happens to the lens."""
    rows = gray.shape[0]
    cut = round(rows * band)
    return gray[cut : rows - cut]


def shrink(plane: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """`plane` brought down to `size` (width, height) by averaging: halved while it is twice as large or
    more (OpenCV's fast path: a general area resize costs several times more), then resized."""
    width, height = size
    while plane.shape[1] >= 2 * width and plane.shape[0] >= 2 * height:
        plane = cv2.resize(plane, (plane.shape[1] // 2, plane.shape[0] // 2), interpolation=cv2.INTER_AREA)
    if (plane.shape[1], plane.shape[0]) != size:
        plane = cv2.resize(plane, size, interpolation=cv2.INTER_AREA)
    return plane


def on_grid(plane: np.ndarray, grid: int) -> np.ndarray:
    """The middle of `plane` whose sides divide by `grid`: cells of whole pixels, averaged on OpenCV's fast path."""
    rows, cols = plane.shape[:2]
    top, left = rows % grid // 2, cols % grid // 2
    return plane[top : top + rows - rows % grid, left : left + cols - cols % grid]


SHARPNESS_WIDTH = 320  # the scale sharpness is judged at: a defocus of 3 pixels at 640x360 still shows, noise averages down
LAPLACIAN_NOISE_GAIN, SOBEL_NOISE_GAIN = 20.0, 24.0  # energy the 3x3 Laplacian and Sobel pair make of white noise of variance 1


def sharpness(luma: np.ndarray, noise: float) -> tuple[float, float]:
    """(sharpness, detail): how fine the picture's detail is, whatever the scene, and how much of it
    there is. On the picture brought to 320 pixels wide less its text bands: the energy per pixel of its
    second derivative (Laplacian) over that of its first (Sobel gradient), each less what the sensor's
    noise (`noise`, its sigma in grey levels at full resolution) puts into it; and that gradient energy
    (detail: a flat or faded picture has too little to judge).

    A sharp edge has a large second derivative for its first; a defocused one, spread over more pixels,
    a small one. Light, contrast and how much of the scene has edges divide out (a sky, a table top,
    fine texture, a text overlay), and so does the noise, which a defocused lens does not soften (it
    arises after the lens). Falls to about 0.5x for a defocus of 3 pixels at 640x360, to 0.8x for 1.5
    pixels; a clean scene holds within 10 % through light changes and passing shadows."""
    core = without_text_bands(luma)
    width = min(SHARPNESS_WIDTH, core.shape[1])
    small = shrink(core, (width, max(8, round(core.shape[0] * width / core.shape[1]))))
    scale = core.shape[1] / small.shape[1]
    variance = noise * noise / (scale * scale)  # averaging scale x scale pixels divides the noise's variance so
    laplacian = cv2.norm(cv2.Laplacian(small, cv2.CV_16S), cv2.NORM_L2SQR) / small.size - LAPLACIAN_NOISE_GAIN * variance
    across, down = cv2.Sobel(small, cv2.CV_16S, 1, 0), cv2.Sobel(small, cv2.CV_16S, 0, 1)
    gradient = (cv2.norm(across, cv2.NORM_L2SQR) + cv2.norm(down, cv2.NORM_L2SQR)) / small.size - SOBEL_NOISE_GAIN * variance
    return max(laplacian, 0.0) / max(gradient, 1.0), max(gradient, 0.0)


def flat_cells(gray: np.ndarray, grid: int = 4, below_std: float = 4.0) -> int:
    """How many of the grid x grid cells of the picture less its text bands are flat (std below
    `below_std`): a covered lens flattens most, and the camera's text stays on top of the cover."""
    values = on_grid(without_text_bands(gray), grid).astype(np.float32)
    means = cv2.resize(values, (grid, grid), interpolation=cv2.INTER_AREA)  # each cell's mean, and its square's
    squares = cv2.resize(values * values, (grid, grid), interpolation=cv2.INTER_AREA)
    return int(np.count_nonzero(squares - means * means < below_std * below_std))


def histogram_peak_share(gray: np.ndarray, bins: int = 64, peaks: int = 2) -> float:
    """Share of pixels in the `peaks` fullest of `bins` luma bins: near 1 for a covered or painted lens."""
    counts = cv2.calcHist([gray], [0], None, [bins], [0, 256]).ravel()
    return float(np.sort(counts)[-peaks:].sum()) / gray.size


def color_cast(cb: np.ndarray, cr: np.ndarray) -> float:
    """The colour-cast factor from the chroma planes: their mean offset from neutral over their spread
    (above ~1.5, one hue dominates the whole picture)."""
    (mean_b, std_b), (mean_r, std_r) = (cv2.meanStdDev(plane) for plane in (cb, cr))
    offset = math.hypot(float(mean_b[0, 0]) - 128.0, float(mean_r[0, 0]) - 128.0)
    return offset / max(math.hypot(float(std_b[0, 0]), float(std_r[0, 0])), 1.0)


def chroma(cb: np.ndarray, cr: np.ndarray) -> float:
    """Mean distance from neutral of the chroma planes: 0 for a grey (infrared, night mode) picture."""
    # Less the noise a codec leaves in a grey picture's chroma (about one level): grey measures 0.
    return float(np.maximum(cv2.magnitude(_centred(cb), _centred(cr)) - CHROMA_NOISE, 0.0).mean())


def chroma_planes(bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(Cb, Cr) of a BGR picture, as a decoder's 4:2:0 planes would give them (for tests and benchmarks)."""
    ycrcb = cv2.cvtColor(bgr, cv2.COLOR_BGR2YCrCb)
    return ycrcb[..., 2], ycrcb[..., 1]


def _centred(plane: np.ndarray) -> np.ndarray:
    return plane.astype(np.float32) - 128.0


def noise_sigma(gray: np.ndarray) -> float:
    """Immerkær's fast estimate of the noise's standard deviation (grey levels)."""
    height, width = gray.shape[:2]
    response = cv2.filter2D(gray, cv2.CV_32F, IMMERKAER)[1:-1, 1:-1]
    return cv2.norm(response, cv2.NORM_L1) * math.sqrt(math.pi / 2) / (6.0 * (width - 2) * (height - 2))


def stripe_strength(gray: np.ndarray) -> float:
    """How far the strongest periodic pattern across rows or columns stands out (interference stripes and
    rolling bars are one spectral peak of the row or column means).

    Each profile loses its slow trend (the scene's own layout) before its spectrum is taken; the answer
    is the strongest peak over the median magnitude. Profiles cost microseconds where a 2-D spectrum of
    the full frame costs milliseconds."""
    return max(
        _profile_peak(cv2.reduce(gray, 1, cv2.REDUCE_AVG, dtype=cv2.CV_32F).ravel()),
        _profile_peak(cv2.reduce(gray, 0, cv2.REDUCE_AVG, dtype=cv2.CV_32F).ravel()),
    )


def _profile_peak(profile: np.ndarray, trend: int = 9) -> float:
    if profile.size < 4 * trend:
        return 0.0
    smooth = np.convolve(profile, np.ones(trend, np.float32) / trend, mode="same")
    detail = (profile - smooth)[trend:-trend]
    spectrum = np.abs(np.fft.rfft(detail * np.hanning(detail.size)))[2:]
    return float(spectrum.max() / max(float(np.median(spectrum)), 1e-3))


def blockiness(gray: np.ndarray, block: int = 8) -> float:
    """Steps at block edges over steps inside blocks, the lesser of across and down: about 1 for a clean
    picture, large for mosaic. Blocks have edges both ways; a codec struggling with interference stripes
    leaves steps one way only."""
    across = cv2.reduce(cv2.absdiff(gray[:, 1:], gray[:, :-1]), 0, cv2.REDUCE_AVG, dtype=cv2.CV_32F).ravel()
    down = cv2.reduce(cv2.absdiff(gray[1:], gray[:-1]), 1, cv2.REDUCE_AVG, dtype=cv2.CV_32F).ravel()
    return min(_edge_ratio(across, block), _edge_ratio(down, block))


def _edge_ratio(steps: np.ndarray, block: int) -> float:
    edges = steps[block - 1 :: block]
    edge_sum, total = float(edges.sum(dtype=np.float64)), float(steps.sum(dtype=np.float64))
    inside_mean = (total - edge_sum) / (steps.size - edges.size)
    return edge_sum / edges.size / max(inside_mean, 0.5)


def median_picture(pictures: list[np.ndarray]) -> np.ndarray:
    """The per-pixel median of a few uint8 pictures of one size, as `np.median(..., axis=0)` cast to uint8
    gives it (two middle values: their mean, rounded down), at a sixth of its cost: the pictures are put
    in order by a network of per-pixel minimums and maximums, which for the five of a background is
    ten passes over 2 KB."""
    ordered, count = list(pictures), len(pictures)
    for end in range(count - 1, 0, -1):
        for i in range(end):
            ordered[i], ordered[i + 1] = cv2.min(ordered[i], ordered[i + 1]), cv2.max(ordered[i], ordered[i + 1])
    middle = count // 2
    if count % 2:
        return ordered[middle]
    return ((ordered[middle - 1].astype(np.uint16) + ordered[middle]) // 2).astype(np.uint8)


def shift(reference: np.ndarray, current: np.ndarray) -> tuple[float, float, float]:
    """(dx, dy, response) of `current` against `reference` by phase correlation; a response near 1 is a
    sure match, near 0 no match (the scene changed)."""
    window = _hann(reference.shape)
    (dx, dy), response = cv2.phaseCorrelate(reference.astype(np.float32), current.astype(np.float32), window)
    return float(dx), float(dy), float(response)


def dhash(gray: np.ndarray) -> int:
    """A 64-bit difference hash: neighbouring pictures of one scene differ in few bits."""
    small = cv2.resize(gray, (9, 8), interpolation=cv2.INTER_AREA)
    return int.from_bytes(np.packbits(small[:, 1:] > small[:, :-1]).tobytes(), "big")


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def _hann(shape: tuple[int, ...]) -> np.ndarray:
    return cv2.createHanningWindow((shape[1], shape[0]), cv2.CV_32F)
