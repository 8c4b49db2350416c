"""Face boxes and name tags drawn straight into yuv420p frames, without a colour conversion."""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING

import numpy as np

from streaming.pipeline.options import PipelineOptions

if TYPE_CHECKING:
    from biometrics.face import FaceBox


class Painter:
    """Draws boxes and labels straight into a yuv420p frame (no colour conversion)."""

    def __init__(self, width: int, height: int, options: PipelineOptions):
        import cv2

        self.width, self.height = width, height
        self.thickness = options.box_thickness
        pixel = np.full((2, 2, 3), options.box_colour_bgr, dtype=np.uint8)
        i420 = cv2.cvtColor(pixel, cv2.COLOR_BGR2YUV_I420)  # rows: Y, Y, then U and V
        self.colour = (int(i420[0, 0]), int(i420[2, 0]), int(i420[2, 1]))

    def planes(self, yuv: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Views of the Y, U and V planes of a (height * 3/2, width) yuv420p array."""
        flat = yuv.reshape(-1)
        luma = self.width * self.height
        chroma = luma // 4
        half = (self.height // 2, self.width // 2)
        return (
            flat[:luma].reshape(self.height, self.width),
            flat[luma : luma + chroma].reshape(half),
            flat[luma + chroma : luma + 2 * chroma].reshape(half),
        )

    def draw(self, yuv: np.ndarray, box: FaceBox, label: str | None) -> None:
        import cv2

        y_plane, u_plane, v_plane = self.planes(yuv)
        y_value, u_value, v_value = self.colour
        chroma_thickness = max(1, self.thickness // 2)
        cv2.rectangle(y_plane, (box.left, box.top), (box.right, box.bottom), y_value, self.thickness)
        for plane, value in ((u_plane, u_value), (v_plane, v_value)):
            cv2.rectangle(
                plane, (box.left // 2, box.top // 2), (box.right // 2, box.bottom // 2), value, chroma_thickness
            )
        if label:
            self._tag_draw(yuv, box, label)

    def _tag_draw(self, yuv: np.ndarray, box: FaceBox, label: str) -> None:
        """A filled tag in the box colour above the box (below it at the top edge), the name in black on it."""
        import cv2

        y_plane, u_plane, v_plane = self.planes(yuv)
        y_value, u_value, v_value = self.colour
        label = drawable(label)
        font, scale, weight = cv2.FONT_HERSHEY_SIMPLEX, 0.6, 2
        (text_width, text_height), baseline = cv2.getTextSize(label, font, scale, weight)
        tag_bottom = box.top if box.top > text_height + baseline + 6 else box.bottom + text_height + baseline + 6
        tag_top = tag_bottom - text_height - baseline - 6
        tag_right = min(self.width - 1, box.left + text_width + 8)
        cv2.rectangle(y_plane, (box.left, tag_top), (tag_right, tag_bottom), y_value, cv2.FILLED)
        for plane, value in ((u_plane, u_value), (v_plane, v_value)):
            cv2.rectangle(plane, (box.left // 2, tag_top // 2), (tag_right // 2, tag_bottom // 2), value, cv2.FILLED)
        cv2.putText(y_plane, label, (box.left + 4, tag_bottom - baseline - 3), font, scale, 16, weight, cv2.LINE_AA)


def drawable(label: str) -> str:
    """The label in the ASCII that OpenCV's Hershey fonts draw: "José Müller" -> "Jose Muller"
    (accents dropped rather than every such letter drawn as "?")."""
    decomposed = unicodedata.normalize("NFKD", label)
    return "".join(char if char.isascii() else "?" for char in decomposed if not unicodedata.combining(char))
