"""Identification of a face against a site's gallery; runs in the biometrics worker."""

from typing import Any

from biometrics import selectors
from biometrics.face import FaceRejected, face_sample_extract
from biometrics.gallery import confidence_from_distance, gallery_identify, gallery_verify


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
    liveness_score = None
    try:
        if frames:
            liveness_score = _liveness_score(frames)
        elif policy.liveness_required or liveness_required:
            raise FaceRejected("liveness_required", "This site requires a liveness check: send a burst of frames.")
        sample = face_sample_extract(image, limits=selectors.image_limits())
    except FaceRejected as rejection:
        return _identification(None, None, None, liveness_score, rejection.code, rejection.detail)
    if liveness_score is not None and liveness_score < 0.5:
        return _identification(None, None, None, liveness_score, "liveness_failed", "The liveness check failed.")

    gallery = selectors.site_gallery(site_id=site_id)
    threshold = policy.face_distance_threshold
    if claimed_employee_id is not None:
        result = gallery_verify(gallery, sample.encoding, employee_id=claimed_employee_id, threshold=threshold)
    else:
        result = gallery_identify(gallery, sample.encoding, threshold=threshold, margin=policy.face_margin)
    confidence = None if result.distance is None else confidence_from_distance(result.distance, threshold)
    code = "identified" if result.accepted else "face_not_recognised"
    return _identification(result.employee_id, result.distance, confidence, liveness_score, code, result.reason)


def _liveness_score(frames: list[bytes]) -> float:
    from biometrics.face import image_decode
    from biometrics.liveness import liveness_check

    limits = selectors.image_limits()
    result = liveness_check([image_decode(frame, limits=limits) for frame in frames])
    if not result.passed:
        raise FaceRejected("liveness_failed", f"The liveness check failed: {result.reason}")
    return result.score


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
