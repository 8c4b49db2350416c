"""Voice verification: bounded decoding, a speech gate, one speaker embedding per clip.

The model is Resemblyzer's pretrained speaker encoder (GE2E-trained, 3-layer LSTM over
40-band mel frames, 256-d output), re-implemented here in NumPy. Its weights ship inside
the ``resemblyzer`` wheel (``pretrained.pt``), which is installed with ``--no-deps``:
that package itself imports PyTorch, which we neither install nor import. We read the
weights file with a restricted unpickler and run the forward pass ourselves, so nothing
is downloaded at run time and the only runtime dependencies are NumPy, SciPy and
soundfile.

A clip is cut into 1.6 s partials (1.3 per second); the clip embedding is the normalised
mean of the partial embeddings. A template is the normalised mean of >= 2 clip
embeddings, and a score is the cosine similarity, which lies in [0, 1] because the
encoder ends with a ReLU.

Measured with ``python -m bench.voice_accuracy`` on shared/testdata (7 LibriSpeech speakers
x 4 clips and donald_trump x 3 clips, each enrolled from all of their clips but one, the
held-out clip cut into 4 s probe windows; 63 genuine, 2033 human impostor and 48
cloned-voice trials. Human impostors: the other enrolled speakers and 4 never-enrolled
speakers; cloned: windows of 3 voice-cloned fakes claiming to be donald_trump). EER
counts the clones as impostors; the GMM-UBM and MFCC mean/std rows come from the same
protocol in a one-off exploration, not from the bench:

==============================  ======  ===============================================
approach                        EER     cloned-voice windows accepted
==============================  ======  ===============================================
MFCC mean, cosine (baseline)    23.6 %  46 % at its EER threshold
MFCC+delta mean/std, cosine     18.7 %  62 % at its EER threshold
GMM-UBM (64 diag, MAP, MFCC+d)   3.1 %  100 % at its EER threshold; needs a background
this encoder, cosine             1.4 %  60 % at 0.77 (chosen)
==============================  ======  ===============================================

At VOICE_ACCEPT_THRESHOLD = 0.77, between the highest human impostor (0.754) and the
lowest genuine window (0.782): FRR 0/63, FAR 0/2033 for human impostors, and 29/48
cloned-voice windows accepted (scores 0.69-0.84). Whole 20-30 s cloned clips score
0.80-0.87 and all pass. Raising the threshold trades people for clones (0.80: FRR 5 %,
clones 33 %; 0.84: FRR 30 %, clones 0 %). Voice cloning defeats speaker verification on
its own, and there is no anti-spoofing here: with three fakes, any detector trained on
them would be fitted to them. Voice must not be the only factor for anything that matters.
The margins are thin and the data small (8 enrolled speakers); re-measure on real
enrolments before trusting the FAR figure.
"""

import hashlib
import importlib.util
import io
import pickle
import struct
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy import signal
from scipy.ndimage import binary_dilation
from scipy.special import expit

SAMPLE_RATE = 16000
MAX_AUDIO_BYTES = 10 * 1024 * 1024
MAX_CLIP_SECONDS = 45.0
# One encoder partial is 1.6 s; below ~2 s of speech a score rests on a single partial.
MIN_SPEECH_SECONDS = 2.0
VOICE_ACCEPT_THRESHOLD = 0.77
EMBEDDING_SIZE = 256

ACCEPTED_FORMATS = ("WAV", "FLAC", "OGG")

# Speech gate: 30 ms frames, speech = within 35 dB of the clip's loud frames and above an
# absolute floor, so that digital silence and faint hiss are not taken for a voice.
VAD_FRAME = SAMPLE_RATE * 30 // 1000
VAD_RELATIVE_DB = 35.0
VAD_FLOOR_DBFS = -55.0
# Pauses up to 6 frames (180 ms) are kept, as Resemblyzer does: words need their edges.
VAD_HANGOVER_FRAMES = 6
NORMALISE_TARGET_DBFS = -30.0

# The encoder's front end, fixed by how the weights were trained.
MEL_N_FFT = 400
MEL_HOP = 160
MEL_BANDS = 40
PARTIAL_FRAMES = 160
PARTIALS_PER_SECOND = 1.3
PARTIAL_MIN_COVERAGE = 0.75

WEIGHTS_PACKAGE = "resemblyzer"
WEIGHTS_FILE = "pretrained.pt"
# resemblyzer 0.1.4; another file would be another model, with other thresholds.
WEIGHTS_SHA256 = "39373b86598fa3da9fcddee6142382efe09777e8d37dc9c0561f41f0070f134e"


class AudioRejected(ValueError):
    """The clip cannot be used; ``code`` is stable for clients, ``detail`` is for people."""

    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code = code
        self.detail = detail


class VoiceModelMissing(RuntimeError):
    """The encoder weights are not installed: a deployment fault, not a user error."""


def _sniff_format(data: bytes) -> str | None:
    # By signature, not by what libsndfile would accept: it also reads MP3, AIFF, raw
    # and more, which are not part of the contract (and MP3 front-ends vary).
    if len(data) >= 12 and data[:4] in (b"RIFF", b"RIFX") and data[8:12] == b"WAVE":
        return "WAV"
    if data[:4] == b"fLaC":
        return "FLAC"
    if data[:4] == b"OggS":
        return "OGG"
    return None


def audio_decode(data: bytes) -> np.ndarray:
    """Decode a WAV, FLAC or OGG clip to mono float32 at SAMPLE_RATE, within the limits."""
    if not data:
        raise AudioRejected("empty_audio", "The audio is empty.")
    if len(data) > MAX_AUDIO_BYTES:
        raise AudioRejected("too_long", f"The audio is larger than {MAX_AUDIO_BYTES // (1024 * 1024)} MB.")
    kind = _sniff_format(data)
    if kind is None:
        raise AudioRejected(
            "unsupported_format", f"Unsupported audio format; send one of {', '.join(ACCEPTED_FORMATS)}."
        )
    try:
        # The header is checked before decoding, so a long clip costs nothing.
        info = sf.info(io.BytesIO(data))
        if info.samplerate <= 0 or info.channels <= 0:
            raise AudioRejected("decode_failed", "The audio header is invalid.")
        if info.frames > MAX_CLIP_SECONDS * info.samplerate:
            raise AudioRejected("too_long", f"The clip is longer than {MAX_CLIP_SECONDS:g} seconds.")
        samples, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except AudioRejected:
        raise
    except (sf.LibsndfileError, RuntimeError, ValueError, TypeError) as error:
        raise AudioRejected("decode_failed", f"The {kind} audio could not be decoded.") from error
    # OGG headers may not know their length: check what was actually decoded as well.
    if len(samples) > MAX_CLIP_SECONDS * rate:
        raise AudioRejected("too_long", f"The clip is longer than {MAX_CLIP_SECONDS:g} seconds.")
    if len(samples) == 0:
        raise AudioRejected("empty_audio", "The audio contains no samples.")
    mono = samples.mean(axis=1)
    if rate != SAMPLE_RATE:
        common = np.gcd(int(rate), SAMPLE_RATE)
        mono = signal.resample_poly(mono, SAMPLE_RATE // common, int(rate) // common)
    mono = np.nan_to_num(mono.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    if len(mono) < MIN_SPEECH_SECONDS * SAMPLE_RATE:
        raise AudioRejected("too_short", f"The clip is shorter than {MIN_SPEECH_SECONDS:g} seconds.")
    return mono


def _speech_mask(samples: np.ndarray) -> np.ndarray:
    """One boolean per VAD_FRAME: does this frame hold speech-level energy?"""
    count = len(samples) // VAD_FRAME
    if count == 0:
        return np.zeros(0, dtype=bool)
    frames = samples[: count * VAD_FRAME].astype(np.float64).reshape(count, VAD_FRAME)
    energy_db = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)
    loud = np.percentile(energy_db, 95)
    return (energy_db > loud - VAD_RELATIVE_DB) & (energy_db > VAD_FLOOR_DBFS)


def _mel_filterbank(n_fft: int, bands: int, fmin: float = 0.0, fmax: float | None = None) -> np.ndarray:
    """Slaney-style mel filters, as librosa builds them (the encoder was trained on those)."""
    fmax = SAMPLE_RATE / 2 if fmax is None else fmax
    log_step = np.log(6.4) / 27.0

    def hz_to_mel(hz: np.ndarray) -> np.ndarray:
        return np.where(hz >= 1000, 15 + np.log(np.maximum(hz, 1e-9) / 1000) / log_step, hz * 3 / 200)

    def mel_to_hz(mel: np.ndarray) -> np.ndarray:
        return np.where(mel >= 15, 1000 * np.exp(log_step * (mel - 15)), mel * 200 / 3)

    edges = mel_to_hz(np.linspace(hz_to_mel(np.array(fmin)), hz_to_mel(np.array(fmax)), bands + 2))
    bins = np.linspace(0, SAMPLE_RATE / 2, 1 + n_fft // 2)
    widths = np.diff(edges)
    ramps = edges[:, None] - bins[None, :]
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (edges[2:] - edges[:-2]))[:, None]
    return weights.astype(np.float32)


def _power_spectrum(samples: np.ndarray, n_fft: int, hop: int, window: int | None = None) -> np.ndarray:
    """|STFT|^2 as (frames, bins), centred with reflect padding like librosa's old default."""
    window = n_fft if window is None else window
    padded = np.pad(samples, n_fft // 2, mode="reflect")
    count = 1 + (len(padded) - n_fft) // hop
    index = np.arange(n_fft)[None, :] + hop * np.arange(count)[:, None]
    taper = signal.get_window("hann", window, fftbins=True)
    if window < n_fft:
        taper = np.pad(taper, ((n_fft - window) // 2, n_fft - window - (n_fft - window) // 2))
    return (np.abs(np.fft.rfft(padded[index] * taper, axis=1)) ** 2).astype(np.float32)


@dataclass(frozen=True)
class _Storage:
    key: str
    dtype: type


@dataclass(frozen=True)
class _TensorRef:
    storage: _Storage
    offset: int
    shape: tuple[int, ...]
    stride: tuple[int, ...]


_STORAGE_DTYPES = {"FloatStorage": np.float32, "DoubleStorage": np.float64, "LongStorage": np.int64}


class _WeightsUnpickler(pickle.Unpickler):
    """Reads a legacy ``torch.save`` file without torch, resolving nothing but tensors.

    Any other global in the file is refused, so the file cannot run code.
    """

    def find_class(self, module: str, name: str) -> object:
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return lambda storage, offset, shape, stride, *_: _TensorRef(storage, offset, tuple(shape), tuple(stride))
        if module == "torch" and name in _STORAGE_DTYPES:
            return name
        if (module, name) == ("collections", "OrderedDict"):
            return OrderedDict
        raise pickle.UnpicklingError(f"refusing {module}.{name} in the voice model file")

    def persistent_load(self, pid: tuple) -> _Storage:
        _, storage_type, key, *_ = pid
        return _Storage(key, _STORAGE_DTYPES[storage_type])


def _weights_path() -> Path:
    # find_spec does not execute the package (whose __init__ imports torch).
    spec = importlib.util.find_spec(WEIGHTS_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise VoiceModelMissing(
            f"The voice model is not installed: pip install --no-deps {WEIGHTS_PACKAGE}==0.1.4 (weights only)."
        )
    path = Path(next(iter(spec.submodule_search_locations))) / WEIGHTS_FILE
    if not path.is_file():
        raise VoiceModelMissing(f"{path} is missing: reinstall {WEIGHTS_PACKAGE}==0.1.4.")
    return path


@lru_cache(maxsize=1)
def _encoder_weights() -> dict[str, np.ndarray]:
    raw = _weights_path().read_bytes()
    if hashlib.sha256(raw).hexdigest() != WEIGHTS_SHA256:
        raise VoiceModelMissing(f"Unexpected {WEIGHTS_FILE}: the thresholds were measured with resemblyzer 0.1.4.")
    stream = io.BytesIO(raw)
    # Legacy torch format: magic, protocol, sys info, the object, storage keys, storages.
    for _ in range(3):
        _WeightsUnpickler(stream).load()
    checkpoint = _WeightsUnpickler(stream).load()
    storage_keys = _WeightsUnpickler(stream).load()
    refs = {name: ref for name, ref in checkpoint["model_state"].items() if isinstance(ref, _TensorRef)}
    dtypes = {ref.storage.key: ref.storage.dtype for ref in refs.values()}
    storages: dict[str, np.ndarray] = {}
    for key in storage_keys:
        (count,) = struct.unpack("<q", stream.read(8))
        dtype = np.dtype(dtypes.get(key, np.float32))
        storages[key] = np.frombuffer(stream.read(count * dtype.itemsize), dtype=dtype)
    weights = {}
    for name, ref in refs.items():
        flat = storages[ref.storage.key]
        view = np.lib.stride_tricks.as_strided(
            flat[ref.offset :], shape=ref.shape, strides=[step * flat.itemsize for step in ref.stride]
        )
        weights[name] = np.array(view, dtype=np.float32)
    # The forward pass only ever needs the two LSTM biases summed.
    for layer in range(3):
        weights[f"bias_l{layer}"] = weights[f"lstm.bias_ih_l{layer}"] + weights[f"lstm.bias_hh_l{layer}"]
    return weights


@lru_cache(maxsize=1)
def _encoder_mel() -> np.ndarray:
    return _mel_filterbank(MEL_N_FFT, MEL_BANDS)


def _encode_partials(mels: np.ndarray) -> np.ndarray:
    """(partials, frames, bands) mel frames -> (partials, 256) unit embeddings."""
    weights = _encoder_weights()
    sequence = mels
    for layer in range(3):
        w_in = weights[f"lstm.weight_ih_l{layer}"]
        w_hidden = weights[f"lstm.weight_hh_l{layer}"].T
        hidden_size = w_hidden.shape[0]
        projected = sequence @ w_in.T + weights[f"bias_l{layer}"]
        hidden = np.zeros((len(mels), hidden_size), dtype=np.float32)
        cell = np.zeros_like(hidden)
        outputs = []
        for step in range(projected.shape[1]):
            # PyTorch's gate order: input, forget, cell candidate, output.
            gates = projected[:, step] + hidden @ w_hidden
            i, f, g, o = np.split(gates, 4, axis=1)
            cell = expit(f) * cell + expit(i) * np.tanh(g)
            hidden = expit(o) * np.tanh(cell)
            outputs.append(hidden)
        sequence = np.stack(outputs, axis=1)
    embeds = np.maximum(hidden @ weights["linear.weight"].T + weights["linear.bias"], 0)
    return embeds / np.maximum(np.linalg.norm(embeds, axis=1, keepdims=True), 1e-12)


def voice_embedding(samples: np.ndarray) -> np.ndarray:
    """One clip's speaker embedding: float32, shape (EMBEDDING_SIZE,), unit length."""
    samples = np.asarray(samples, dtype=np.float32)
    # The speech gate runs on the level as recorded: after gain, hiss would look like speech.
    mask = _speech_mask(samples)
    speech_seconds = mask.sum() * VAD_FRAME / SAMPLE_RATE
    if speech_seconds < MIN_SPEECH_SECONDS:
        raise AudioRejected(
            "silent_audio", f"Too little speech: {speech_seconds:.1f} s heard, {MIN_SPEECH_SECONDS:g} s needed."
        )
    keep = binary_dilation(mask, np.ones(VAD_HANGOVER_FRAMES + 1, dtype=bool))
    speech = samples[: len(keep) * VAD_FRAME][np.repeat(keep, VAD_FRAME)]
    rms = np.sqrt(np.mean(speech.astype(np.float64) ** 2))
    level = 20 * np.log10(rms + 1e-12)
    if level < NORMALISE_TARGET_DBFS:  # raise quiet clips only, as in training
        speech = speech * np.float32(10 ** ((NORMALISE_TARGET_DBFS - level) / 20))

    # Partials every 1/1.3 s; the last one is kept, zero-padded, if it is 3/4 covered.
    frames = int(np.ceil((len(speech) + 1) / MEL_HOP))
    step = round(SAMPLE_RATE / PARTIALS_PER_SECOND / MEL_HOP)
    starts = list(range(0, max(1, frames - PARTIAL_FRAMES + step + 1), step))
    coverage = (len(speech) - starts[-1] * MEL_HOP) / (PARTIAL_FRAMES * MEL_HOP)
    if coverage < PARTIAL_MIN_COVERAGE and len(starts) > 1:
        starts.pop()
    needed = (starts[-1] + PARTIAL_FRAMES) * MEL_HOP
    if needed >= len(speech):
        speech = np.pad(speech, (0, needed - len(speech)))
    mel = _power_spectrum(speech, MEL_N_FFT, MEL_HOP) @ _encoder_mel().T
    partials = np.stack([mel[start : start + PARTIAL_FRAMES] for start in starts]).astype(np.float32)
    mean = _encode_partials(partials).mean(axis=0)
    return (mean / np.linalg.norm(mean)).astype(np.float32)


def voice_template_build(embeddings: list[np.ndarray]) -> np.ndarray:
    """A speaker template from >= 2 clip embeddings: float32, shape (EMBEDDING_SIZE,)."""
    if len(embeddings) < 2:
        raise ValueError("A voice template needs at least 2 clips.")
    stacked = np.stack([np.asarray(e, dtype=np.float32).reshape(-1) for e in embeddings])
    if stacked.shape[1] != EMBEDDING_SIZE:
        raise ValueError(f"Voice embeddings must have {EMBEDDING_SIZE} values, got {stacked.shape[1]}.")
    stacked /= np.maximum(np.linalg.norm(stacked, axis=1, keepdims=True), 1e-12)
    mean = stacked.mean(axis=0)
    return (mean / np.linalg.norm(mean)).astype(np.float32)


def voice_score(template: np.ndarray, probe: np.ndarray) -> float:
    """Cosine similarity in [0, 1]; accept when >= VOICE_ACCEPT_THRESHOLD."""
    a = np.asarray(template, dtype=np.float32).reshape(-1)
    b = np.asarray(probe, dtype=np.float32).reshape(-1)
    if a.shape != (EMBEDDING_SIZE,) or b.shape != (EMBEDDING_SIZE,):
        raise ValueError(f"Voice vectors must have {EMBEDDING_SIZE} values.")
    denominator = float(np.linalg.norm(a) * np.linalg.norm(b))
    if denominator == 0.0:
        return 0.0
    return float(np.clip(np.dot(a, b) / denominator, 0.0, 1.0))
