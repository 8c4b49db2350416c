"""The built-in biometric backends, registered as a plugin's would be.

The wrappers import their engine on first use: the voice encoder alone takes seconds
to import, and most processes never verify a voice.
"""

from typing import Any

from attendance_site.registry import FaceMatcher, LivenessCheck, VoiceVerifier
from biometrics.gallery import confidence_from_distance, gallery_identify, gallery_verify


def _face_sample_extract(data: bytes) -> Any:
    from biometrics.face import face_sample_extract
    from biometrics.selectors import image_limits

    return face_sample_extract(data, limits=image_limits())


def _face_encode(rgb: Any, box: Any) -> Any:
    from biometrics.face import face_encode

    return face_encode(rgb, box)


def _voice_embed(data: bytes) -> Any:
    from biometrics import voice

    return voice.voice_embedding(voice.audio_decode(data))


def _voice_template_build(embeddings: list[Any]) -> Any:
    from biometrics import voice

    return voice.voice_template_build(embeddings)


def _voice_score(template: Any, probe: Any) -> float:
    from biometrics import voice

    return voice.voice_score(template, probe)


def _voice_accepts(score: float) -> bool:
    from biometrics.voice import VOICE_ACCEPT_THRESHOLD

    return score >= VOICE_ACCEPT_THRESHOLD


def _liveness_check(images: list[bytes]) -> Any:
    from biometrics.face import image_decode
    from biometrics.liveness import liveness_check
    from biometrics.selectors import image_limits

    limits = image_limits()
    return liveness_check([image_decode(image, limits=limits) for image in images])


biometric_backends = [
    FaceMatcher(
        key="face",
        sample_extract=_face_sample_extract,
        encode=_face_encode,
        identify=gallery_identify,
        verify=gallery_verify,
        confidence=confidence_from_distance,
    ),
    VoiceVerifier(
        key="voice",
        embed=_voice_embed,
        template_build=_voice_template_build,
        score=_voice_score,
        accepts=_voice_accepts,
    ),
    LivenessCheck(key="liveness", check=_liveness_check),
]
