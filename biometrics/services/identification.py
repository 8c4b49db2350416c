"""Identification of a face against a site's gallery; runs in the biometrics worker."""

from typing import Any

from biometrics import selectors
from biometrics.face import FaceRejected


def face_identify(
    *,
    site_id: int,
    image: bytes,
    claimed_employee_id: int | None = None,
    frames: list[bytes] | None = None,
    liveness_required: bool = False,
) -> dict[str, Any]:
    """Who is in the picture, as a JSON-safe dict (it travels back through Celery).

    Keys: employee_id (None when rejected), distance, confidence, liveness_score,
    code and detail (why it was rejected, or "identified").
    """
    policy = selectors.site_policy(site_id=site_id)
    matcher = selectors.face_matcher()
    liveness_score = None
    try:
        if frames:
            liveness_score = _liveness_score(frames)
        elif policy.liveness_required or liveness_required:
            raise FaceRejected("liveness_required", "This site requires a liveness check: send a burst of frames.")
        sample = matcher.sample_extract(image)
    except FaceRejected as rejection:
        return _identification(None, None, None, liveness_score, rejection.code, rejection.detail)
    if liveness_score is not None and liveness_score < 0.5:
        return _identification(None, None, None, liveness_score, "liveness_failed", "The liveness check failed.")

    gallery = selectors.site_gallery(site_id=site_id)
    threshold = policy.face_distance_threshold
    if claimed_employee_id is not None:
        result = matcher.verify(gallery, sample.encoding, employee_id=claimed_employee_id, threshold=threshold)
    else:
        result = matcher.identify(gallery, sample.encoding, threshold=threshold, margin=policy.face_margin)
    confidence = None if result.distance is None else matcher.confidence(result.distance, threshold)
    code = "identified" if result.accepted else "face_not_recognised"
    return _identification(result.employee_id, result.distance, confidence, liveness_score, code, result.reason)


def _liveness_score(frames: list[bytes]) -> float:
    # A backend's error for an undecodable frame is FaceRejected too (the backend contract).
    result = selectors.liveness_check_backend().check(frames)
    if not result.passed:
        raise FaceRejected("liveness_failed", f"The liveness check failed: {result.reason}")
    return float(result.score)


def _identification(
    employee_id: int | None,
    distance: float | None,
    confidence: float | None,
    liveness_score: float | None,
    code: str,
    detail: str,
) -> dict[str, Any]:
    return {
        "employee_id": employee_id,
        "distance": distance,
        "confidence": confidence,
        "liveness_score": liveness_score,
        "code": code,
        "detail": detail,
    }
