"""Voice pipeline: decoding limits, the speech gate, and same vs other speaker scores."""

import io
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from biometrics.voice import (
    EMBEDDING_SIZE,
    MAX_AUDIO_BYTES,
    MAX_CLIP_SECONDS,
    SAMPLE_RATE,
    VOICE_ACCEPT_THRESHOLD,
    AudioRejected,
    audio_decode,
    voice_embedding,
    voice_score,
    voice_template_build,
)

DATA = Path(__file__).resolve().parents[2] / "tests" / "data" / "voice"
SPEAKER_A = DATA / "librispeech_367"
SPEAKER_B = DATA / "librispeech_1688"
A_ENROL = ("367-130732-0001.flac", "367-130732-0004.flac")
A_PROBE = "367-130732-0007.flac"
B_CLIPS = ("1688-142285-0003.flac", "1688-142285-0004.flac", "1688-142285-0005.flac")


def _embed_file(path: Path) -> np.ndarray:
    return voice_embedding(audio_decode(path.read_bytes()))


def _wav_bytes(samples: np.ndarray, rate: int = SAMPLE_RATE) -> bytes:
    out = io.BytesIO()
    sf.write(out, samples, rate, format="WAV", subtype="PCM_16")
    return out.getvalue()


def _rejected(data: bytes) -> str:
    with pytest.raises(AudioRejected) as caught:
        voice_embedding(audio_decode(data))
    assert caught.value.detail
    return caught.value.code


@pytest.fixture(scope="module")
def template_a() -> np.ndarray:
    return voice_template_build([_embed_file(SPEAKER_A / name) for name in A_ENROL])


def test_decode_flac_is_mono_float32_at_16k():
    path = SPEAKER_A / A_PROBE
    samples = audio_decode(path.read_bytes())
    assert samples.dtype == np.float32
    assert samples.ndim == 1
    assert len(samples) == sf.info(str(path)).frames


def test_decode_wav_resamples_and_downmixes(tmp_path):
    mono, rate = sf.read(str(SPEAKER_A / A_PROBE), dtype="float32")
    target = tmp_path / "stereo_44k.wav"
    stereo_44k = np.stack([mono, mono], axis=1)
    # 16 kHz -> 44.1 kHz by index interpolation: crude, but the decoder must undo the rate.
    positions = np.arange(int(len(mono) * 44100 / rate)) * rate / 44100
    stereo_44k = np.stack([np.interp(positions, np.arange(len(mono)), stereo_44k[:, c]) for c in (0, 1)], axis=1)
    sf.write(str(target), stereo_44k, 44100, subtype="PCM_16")
    samples = audio_decode(target.read_bytes())
    assert samples.ndim == 1
    assert abs(len(samples) - len(mono)) <= SAMPLE_RATE // 100


def test_decode_ogg_from_flac_still_scores_as_its_speaker(tmp_path, template_a):
    mono, rate = sf.read(str(SPEAKER_A / A_PROBE), dtype="float32")
    target = tmp_path / "probe.ogg"
    sf.write(str(target), mono, rate, format="OGG", subtype="VORBIS")
    samples = audio_decode(target.read_bytes())
    assert abs(len(samples) - len(mono)) <= SAMPLE_RATE // 100
    assert voice_score(template_a, voice_embedding(samples)) >= VOICE_ACCEPT_THRESHOLD


def test_empty_bytes_rejected():
    assert _rejected(b"") == "empty_audio"


def test_random_bytes_rejected():
    rng = np.random.default_rng(3)
    assert _rejected(rng.bytes(4096)) == "unsupported_format"


def test_corrupt_wav_rejected_as_decode_failure():
    rng = np.random.default_rng(4)
    assert _rejected(b"RIFF\x00\x10\x00\x00WAVE" + rng.bytes(4096)) == "decode_failed"


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01" + bytes(2000), id="jpeg"),
        pytest.param(b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + bytes(2000), id="mp3-header"),
    ],
)
def test_other_formats_rejected(data):
    assert _rejected(data) == "unsupported_format"


def test_real_mp3_is_refused_even_though_libsndfile_could_read_it():
    if "MP3" not in sf.available_formats():
        pytest.skip("this libsndfile cannot write MP3")
    out = io.BytesIO()
    mono, rate = sf.read(str(SPEAKER_A / A_PROBE), dtype="float32")
    sf.write(out, mono, rate, format="MP3")
    assert _rejected(out.getvalue()) == "unsupported_format"


def test_silent_wav_rejected():
    assert _rejected(_wav_bytes(np.zeros(SAMPLE_RATE * 4, dtype=np.float32))) == "silent_audio"


def test_faint_hiss_is_not_speech():
    # -70 dBFS noise: volume normalisation would make it look loud if the gate ran after it.
    hiss = np.random.default_rng(5).normal(0, 10 ** (-70 / 20), SAMPLE_RATE * 4).astype(np.float32)
    assert _rejected(_wav_bytes(hiss)) == "silent_audio"


def test_clip_too_long_rejected_from_its_header():
    tone = 0.1 * np.sin(np.arange(int(SAMPLE_RATE * (MAX_CLIP_SECONDS + 5))) * 0.05).astype(np.float32)
    assert _rejected(_wav_bytes(tone)) == "too_long"


def test_too_many_bytes_rejected_before_decoding():
    assert _rejected(b"RIFF\x00\x00\x00\x00WAVE" + bytes(MAX_AUDIO_BYTES)) == "too_long"


def test_clip_too_short_rejected():
    assert _rejected(_wav_bytes(np.zeros(SAMPLE_RATE, dtype=np.float32))) == "too_short"


def test_template_is_fixed_size_float32_and_round_trips_through_bytes(template_a):
    assert template_a.dtype == np.float32
    assert template_a.shape == (EMBEDDING_SIZE,)
    restored = np.frombuffer(template_a.tobytes(), dtype=np.float32)
    assert np.array_equal(restored, template_a)


def test_template_needs_two_clips():
    with pytest.raises(ValueError):
        voice_template_build([_embed_file(SPEAKER_A / A_ENROL[0])])


def test_genuine_clip_scores_above_threshold(template_a):
    score = voice_score(template_a, _embed_file(SPEAKER_A / A_PROBE))
    assert VOICE_ACCEPT_THRESHOLD <= score <= 1.0


def test_other_speaker_scores_below_threshold(template_a):
    for name in B_CLIPS:
        score = voice_score(template_a, _embed_file(SPEAKER_B / name))
        assert 0.0 <= score < VOICE_ACCEPT_THRESHOLD, name


def test_other_speaker_template_accepts_its_own_voice_and_not_ours(template_a):
    embeddings = [_embed_file(SPEAKER_B / name) for name in B_CLIPS]
    template_b = voice_template_build(embeddings[:2])
    assert voice_score(template_b, embeddings[2]) >= VOICE_ACCEPT_THRESHOLD
    assert voice_score(template_b, _embed_file(SPEAKER_A / A_PROBE)) < VOICE_ACCEPT_THRESHOLD
