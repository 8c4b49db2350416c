"""Liveness: a live clip passes, static attacks (print, screen, a still of a live person) fail.

Only tests/data is read. The attack bursts model a picture held to the kiosk camera: the
same image moved rigidly (drift, small rotation and zoom) with camera noise.
"""

import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from biometrics.face import FaceRejected, image_decode
from biometrics.liveness import (
    MAX_FRAMES,
    MIN_FRAMES,
    _blinks,
    _geometry,
    _liveness_decide,
    frames_from_clip,
    liveness_check,
)
from biometrics.selectors import image_limits

DATA = Path(__file__).resolve().parents[2] / "tests" / "data" / "liveness"
LIVE_CLIP = DATA / "live_hamilton_122-160.mp4"


def _still_burst(name: str, seed: int, frames: int = 16) -> list[np.ndarray]:
    rgb = image_decode((DATA / name).read_bytes(), limits=image_limits())
    height, width = rgb.shape[:2]
    rng = np.random.default_rng(seed)
    drift = rng.uniform(-1.5, 1.5, size=2)
    burst = []
    for index in range(frames):
        wobble = math.sin(index * 2 * math.pi / frames)
        matrix = np.asarray(cv2.getRotationMatrix2D((width / 2, height / 2), 2.0 * wobble, 1 + 0.01 * wobble), float)
        matrix[:, 2] += drift * index + rng.normal(0, 0.7, size=2)
        moved = cv2.warpAffine(rgb, matrix, (width, height), borderMode=cv2.BORDER_REFLECT)
        burst.append(np.clip(moved + rng.normal(0, 2.5, moved.shape), 0, 255).astype(np.uint8))
    return burst


def test_live_clip_passes():
    frames = frames_from_clip(LIVE_CLIP.read_bytes())
    assert len(frames) == 20  # every frame of the 20-frame clip
    assert frames[0].dtype == np.uint8 and frames[0].shape[2] == 3

    result = liveness_check(frames)

    assert result.passed, result.reason
    assert 0.5 <= result.score <= 1.0
    assert result.head_movement > 0.12
    assert "head movement" in result.reason


@pytest.mark.parametrize(
    ("name", "seed"),
    [
        ("minivision_image_F1.jpg", 1),  # printed photo
        ("minivision_image_F2.jpg", 2),  # photo on a tablet screen
        ("minivision_image_T1.jpg", 3),  # a still of the live person: a still cannot prove liveness
    ],
)
def test_static_picture_moved_rigidly_fails(name, seed):
    result = liveness_check(_still_burst(name, seed))

    assert not result.passed, result.reason
    assert 0.0 <= result.score < 0.5
    assert result.blinks == 0
    assert "no blink and no head movement" in result.reason


def test_max_frames_is_respected_for_long_clips():
    frames = frames_from_clip(LIVE_CLIP.read_bytes(), max_frames=MIN_FRAMES)
    assert len(frames) == MIN_FRAMES


@pytest.mark.parametrize("count", [0, MIN_FRAMES - 1, MAX_FRAMES + 1])
def test_wrong_number_of_frames_is_rejected(count):
    frame = np.zeros((120, 160, 3), dtype=np.uint8)
    with pytest.raises(FaceRejected) as raised:
        liveness_check([frame] * count)
    assert raised.value.code == "liveness_frames"


def test_frames_without_a_face_are_rejected():
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, size=(240, 320, 3), dtype=np.uint8) for _ in range(MIN_FRAMES)]
    with pytest.raises(FaceRejected) as raised:
        liveness_check(frames)
    assert raised.value.code == "liveness_frames"


@pytest.mark.parametrize("data", [b"", b"not a video at all" * 100, b"\x00\x00\x00\x18ftypmp42" + bytes(4000)])
def test_undecodable_clip_is_rejected(data):
    with pytest.raises(FaceRejected) as raised:
        frames_from_clip(data)
    assert raised.value.code == "liveness_clip"


# The clip has no full blink, so the blink cue and the geometry are tested on synthetic
# landmarks here.


def _landmarks(eye_gap: float = 6.0, nose_x: float = 0.0) -> dict[str, list[tuple[float, float]]]:
    """A frontal face: eyes 60 px apart on y = 0, nose base at y = 45, mouth corners at y = 70."""

    def eye(cx: float) -> list[tuple[float, float]]:
        half = eye_gap / 2
        return [(cx - 12, 0), (cx - 4, -half), (cx + 4, -half), (cx + 12, 0), (cx + 4, half), (cx - 4, half)]

    return {
        "left_eye": eye(-30),
        "right_eye": eye(30),
        "nose_bridge": [(0, 5), (0, 15), (0, 25), (nose_x, 35)],
        "nose_tip": [(-8, 45), (-4, 46), (0, 45), (4, 46), (8, 45)],
        "top_lip": [(-22, 70), (-12, 66), (-4, 64), (0, 65), (4, 64), (12, 66), (22, 70), (0, 0), (0, 0), (0, 0)],
    }


def _affine(landmarks: dict, matrix: np.ndarray) -> dict:
    return {
        key: [tuple(matrix[:, :2] @ np.asarray(point, dtype=float) + matrix[:, 2]) for point in points]
        for key, points in landmarks.items()
    }


def test_geometry_ignores_any_affine_motion_of_a_flat_picture():
    flat = _geometry(_landmarks())
    # Rotated, zoomed, shifted, foreshortened vertically (tilted back) and sheared.
    matrix = np.array([[0.9, 0.15, 40.0], [-0.1, 0.55, -12.0]])
    moved = _geometry(_affine(_landmarks(), matrix))
    assert flat is not None and moved is not None
    assert moved.openness == pytest.approx(flat.openness, rel=1e-6)
    assert moved.nose_a == pytest.approx(flat.nose_a, abs=1e-9)
    # The plain eye aspect ratio is not invariant: tilting a photo back "closes" its eyes.
    assert moved.ear < 0.8 * flat.ear


def test_blink_counts_open_closed_open_only():
    assert _blinks([0.3] * 4 + [0.1, 0.08] + [0.3] * 4)[0] == 1
    assert _blinks([0.3] * 3 + [0.1] + [0.3] * 3 + [0.1] + [0.3] * 2)[0] == 2
    assert _blinks([0.1] * 3 + [0.3] * 7)[0] == 0  # opening from closed is not a blink
    assert _blinks([0.3] * 7 + [0.1] * 3)[0] == 0  # closing without reopening is not one
    assert _blinks([0.3, 0.27, 0.29, 0.25, 0.3, 0.28, 0.3, 0.26])[0] == 0  # jitter


def test_blink_alone_passes_and_head_turn_alone_passes():
    gaps = [6.0] * 5 + [1.5, 1.0] + [6.0] * 5
    blinking = _liveness_decide([_geometry(_landmarks(eye_gap=gap)) for gap in gaps])
    assert blinking.passed and blinking.blinks == 1
    assert blinking.reason.startswith("1 blink(s) detected")

    turns = [12.0 * math.sin(i / 2) for i in range(12)]
    turning = _liveness_decide([_geometry(_landmarks(nose_x=x)) for x in turns])
    assert turning.passed and turning.blinks == 0 and turning.head_movement > 0.12

    still = _liveness_decide([_geometry(_landmarks()) for _ in range(12)])
    assert not still.passed and still.score == 0.0


def test_too_few_usable_frames_are_rejected():
    per_frame = [_geometry(_landmarks())] * 3 + [None] * 9
    with pytest.raises(FaceRejected) as raised:
        _liveness_decide(per_frame)
    assert raised.value.code == "liveness_frames"
