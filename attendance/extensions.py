"""The check-in methods the platform ships: the one place their keys, modes and labels are written.

Environment modes, simulation methods, serializer choices and recommended fallbacks all
derive from registry.checkin_methods, so a plugin's method joins them by being listed in
its own extensions.py. The simulation figures are those of docs/simulations.md.
"""

from attendance_site.registry import CheckInMethod, SimulatedMode

checkin_methods = [
    CheckInMethod(
        key="face",
        label="Face",
        # In order of preference: where the light allows liveness, a site's rules prefer it.
        modes=("face_liveness", "face"),
        mode_labels={"face_liveness": "Face with liveness"},
        simulation={
            "face": SimulatedMode(
                share=0.3, ceiling=0.97, fa_base=0.001, fa_slope=0.04, fta_slope=0.2, median_ms=900, light_half_lux=40
            ),
            "face_liveness": SimulatedMode(
                share=0.25, ceiling=0.95, fa_base=2e-4, fa_slope=0.01, fta_slope=0.25, median_ms=1800, light_half_lux=80
            ),
        },
    ),
    CheckInMethod(
        key="voice",
        label="Voice",
        simulation={
            "voice": SimulatedMode(
                share=0.25, ceiling=0.93, fa_base=0.002, fa_slope=0.03, fta_slope=0.1, median_ms=2500, noise_half_db=68
            ),
        },
    ),
    CheckInMethod(
        key="qr",
        label="QR code",
        fallback=True,
        simulation={
            "qr": SimulatedMode(share=0.1, ceiling=0.98, fa_base=0.0, fa_slope=0.0, fta_slope=0.0, median_ms=1200),
        },
    ),
    CheckInMethod(
        key="pin",
        label="PIN",
        fallback=True,
        simulation={
            "pin": SimulatedMode(share=0.1, ceiling=0.96, fa_base=0.001, fa_slope=0.0, fta_slope=0.0, median_ms=4000),
        },
    ),
]
