"""Voice verification accuracy on shared/testdata, chosen encoder vs an MFCC baseline.

Protocol (leave one out): every speaker with >= 3 clips (7 LibriSpeech speakers x 4,
donald_trump x 3) is enrolled from all of their clips but one; the held-out clip, cut
into non-overlapping 4 s windows (a check-in is a few seconds of speech, and the windows
give more trials), is the genuine probe. Impostor probes against the same template are
the 4 s windows of every other enrolled speaker's clips, of the 4 never-enrolled
single-clip speakers, and, against donald_trump only, of the 3 voice-cloned fakes. A
window with too little speech for ``voice_embedding`` is left out of both systems.

The baseline is the simplest thing that works: the mean of 20 MFCCs over speech frames,
scored by cosine, at its own equal-error threshold (it has no chosen threshold). The
chosen system is ``biometrics.voice`` at ``VOICE_ACCEPT_THRESHOLD``.

``python -m bench.voice_accuracy`` prints the JSON lines; no database is needed.
"""

import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy.fft import dct

from bench.report import emit, note
from biometrics import voice

NAME = "voice_accuracy"
REPO_ROOT = Path(__file__).resolve().parent.parent
TESTDATA = REPO_ROOT.parent / "shared" / "testdata"
WINDOW_SECONDS = 4.0
MFCC_COUNT = 20

Embedder = Callable[[np.ndarray], np.ndarray]


def _mfcc_mean(samples: np.ndarray) -> np.ndarray:
    """Baseline: mean MFCC (c1..c20, 40 mel bands, 25 ms / 10 ms) over speech frames."""
    mask = voice._speech_mask(samples)
    if mask.sum() * voice.VAD_FRAME < voice.MIN_SPEECH_SECONDS * voice.SAMPLE_RATE:
        raise voice.AudioRejected("silent_audio", "too little speech")
    speech = samples[: len(mask) * voice.VAD_FRAME][np.repeat(mask, voice.VAD_FRAME)]
    emphasised = np.append(speech[0], speech[1:] - 0.97 * speech[:-1])
    power = voice._power_spectrum(emphasised, 512, 160, window=400)
    log_mel = np.log(power @ voice._mel_filterbank(512, 40, 20.0, 7600.0).T + 1e-8)
    return dct(log_mel, type=2, axis=1, norm="ortho")[:, 1 : MFCC_COUNT + 1].mean(axis=0)


def _unit_mean_template(embeddings: list[np.ndarray]) -> np.ndarray:
    stacked = np.stack([e / np.linalg.norm(e) for e in embeddings])
    return stacked.mean(axis=0)


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))


def _load(path: Path) -> np.ndarray:
    return voice.audio_decode(path.read_bytes())


def _windows(samples: np.ndarray) -> list[np.ndarray]:
    size = int(WINDOW_SECONDS * voice.SAMPLE_RATE)
    return [samples[i * size : (i + 1) * size] for i in range(max(1, len(samples) // size))]


def _dataset() -> tuple[dict[str, list[np.ndarray]], list[np.ndarray], list[np.ndarray]]:
    enrolled: dict[str, list[np.ndarray]] = {}
    unknown: list[np.ndarray] = []
    for folder in sorted((TESTDATA / "voice").iterdir()):
        if not folder.is_dir():
            continue
        clips = [_load(p) for p in sorted(folder.iterdir()) if p.suffix in (".flac", ".wav", ".ogg")]
        if len(clips) >= 3:
            enrolled[folder.name] = clips
        else:
            unknown.extend(clips)
    fakes = [_load(p) for p in sorted((TESTDATA / "spoof" / "voice").glob("*.wav"))]
    return enrolled, unknown, fakes


def _trials(
    embed: Embedder,
    template_build: Callable[[list[np.ndarray]], np.ndarray],
    score: Callable[[np.ndarray, np.ndarray], float],
    enrolled: dict[str, list[np.ndarray]],
    unknown: list[np.ndarray],
    fakes: list[np.ndarray],
) -> dict[str, np.ndarray]:
    """Scores by kind: genuine, impostor (human), cloned (fakes against donald_trump)."""

    def window_embeddings(clips: list[np.ndarray]) -> list[list[np.ndarray]]:
        out = []
        for clip in clips:
            kept = []
            for window in _windows(clip):
                try:
                    kept.append(embed(window))
                except voice.AudioRejected:
                    continue  # a pause-heavy window: no system would be asked to score it
            out.append(kept)
        return out

    full = {spk: [embed(c) for c in clips] for spk, clips in enrolled.items()}
    probes = {spk: window_embeddings(clips) for spk, clips in enrolled.items()}
    unknown_probes = [w for clip in window_embeddings(unknown) for w in clip]
    fake_probes = [w for clip in window_embeddings(fakes) for w in clip]

    genuine, impostor, cloned = [], [], []
    for spk in enrolled:
        for held in range(len(enrolled[spk])):
            template = template_build([e for i, e in enumerate(full[spk]) if i != held])
            genuine += [score(template, p) for p in probes[spk][held]]
            for other, clips in probes.items():
                if other != spk:
                    impostor += [score(template, p) for clip in clips for p in clip]
            impostor += [score(template, p) for p in unknown_probes]
            if spk == "donald_trump":
                cloned += [score(template, p) for p in fake_probes]
    return {"genuine": np.array(genuine), "impostor": np.array(impostor), "cloned": np.array(cloned)}


def _eer(genuine: np.ndarray, impostor: np.ndarray) -> tuple[float, float]:
    """(EER, threshold): the candidate threshold where FRR and FAR are closest."""
    best = (2.0, 0.0, 0.0)
    for threshold in np.unique(np.concatenate([genuine, impostor])):
        frr = float(np.mean(genuine < threshold))
        far = float(np.mean(impostor >= threshold))
        if abs(frr - far) < best[0]:
            best = (abs(frr - far), (frr + far) / 2, float(threshold))
    return best[1], best[2]


def _rates(scores: dict[str, np.ndarray], threshold: float) -> dict[str, float]:
    return {
        "frr": 100 * float(np.mean(scores["genuine"] < threshold)),
        "far": 100 * float(np.mean(scores["impostor"] >= threshold)),
        "cloned": 100 * float(np.mean(scores["cloned"] >= threshold)),
    }


def run() -> list[dict]:
    if not (TESTDATA / "voice").is_dir():
        print(f"bench: {NAME} SKIPPED, no test data at {TESTDATA / 'voice'}", file=sys.stderr)
        return []
    started = time.perf_counter()
    enrolled, unknown, fakes = _dataset()
    base = _trials(_mfcc_mean, _unit_mean_template, _cosine, enrolled, unknown, fakes)
    chosen = _trials(voice.voice_embedding, voice.voice_template_build, voice.voice_score, enrolled, unknown, fakes)

    # EER over every impostor, cloned voices included: they are attacks the system meets.
    def eer_all(scores: dict[str, np.ndarray]) -> tuple[float, float]:
        return _eer(scores["genuine"], np.concatenate([scores["impostor"], scores["cloned"]]))

    base_eer, base_threshold = eer_all(base)
    chosen_eer, chosen_eer_threshold = eer_all(chosen)
    base_at = _rates(base, base_threshold)
    chosen_at = _rates(chosen, voice.VOICE_ACCEPT_THRESHOLD)
    note(
        f"{len(chosen['genuine'])} genuine, {len(chosen['impostor'])} human impostor and "
        f"{len(chosen['cloned'])} cloned-voice trials ({WINDOW_SECONDS:g} s probe windows), "
        f"{time.perf_counter() - started:.1f} s"
    )
    cloned = chosen["cloned"]
    note(
        f"encoder: EER threshold {chosen_eer_threshold:.3f}; chosen {voice.VOICE_ACCEPT_THRESHOLD}; genuine min "
        f"{chosen['genuine'].min():.3f}, human impostor max {chosen['impostor'].max():.3f}, cloned scores "
        f"min/median/max {cloned.min():.3f}/{np.median(cloned):.3f}/{cloned.max():.3f}"
    )
    # Raising the threshold trades genuine users for clones; no setting stops clones for free.
    for threshold in (0.77, 0.80, 0.82, 0.84):
        at = _rates(chosen, threshold)
        note(
            f"encoder at {threshold:.2f}: FRR {at['frr']:.1f} %, human FAR {at['far']:.2f} %, "
            f"cloned accepted {at['cloned']:.1f} %"
        )
    note(f"baseline (MFCC mean, cosine) at its EER threshold {base_threshold:.3f}")

    common = {"bench": NAME, "unit": "%"}
    return [
        emit(
            **common,
            metric="eer_incl_cloned",
            value=100 * chosen_eer,
            baseline=100 * base_eer,
            target="<= 5 %",
            met=100 * chosen_eer <= 5,
        ),
        emit(
            **common,
            metric="far_human_impostors_at_threshold",
            value=chosen_at["far"],
            baseline=base_at["far"],
            target="<= 1 %",
            met=chosen_at["far"] <= 1,
        ),
        emit(
            **common,
            metric="frr_at_threshold",
            value=chosen_at["frr"],
            baseline=base_at["frr"],
            target="<= 5 %",
            met=chosen_at["frr"] <= 5,
        ),
        emit(
            **common,
            metric="cloned_voice_accepted_at_threshold",
            value=chosen_at["cloned"],
            baseline=base_at["cloned"],
            target="0 % (no anti-spoofing: not met)",
            met=chosen_at["cloned"] == 0,
        ),
    ]


if __name__ == "__main__":
    run()
