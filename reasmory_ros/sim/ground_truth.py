"""Ground truth of a simulated recording: scene, camera path, intrinsics and per-frame visibility.

Saved as `scene.json` next to the bag so evaluation tools and tests can compute answers without
re-running the renderer. Object meshes and surface samples are rebuilt from the stored box parts,
so distances computed from a loaded file equal those of the original scene.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .changes import ChangeHistory, render_changes
from .noise import DetectorNoise, apply_detector_noise
from .render import Rendered, render_sequence
from .scene import Scene
from .trajectory import CameraPath

FORMAT = "reasmory-sim-scene/1"
MIN_VISIBLE_FRACTION = 0.0005
"""An object counts as seen in a frame when it covers this fraction of the image (150 px at 640x480)."""


@dataclass(eq=False)
class GroundTruth:
    """Everything needed to answer questions about one simulated recording.

    visibility[i] maps scene object id -> pixels it covers in frame i (0-based, bag order);
    instances[i] maps the instance ids of frame i's instance image -> scene object id (to score
    the memory's cross-frame association; with detector noise, only the noisy instances that show
    an object). render_seed, noise and detector_noise reproduce the bag's images; `camera` holds
    the true poses even where the bag's poses drift.
    """

    scene: Scene
    camera: CameraPath
    K: np.ndarray
    width: int
    height: int
    visibility: list[dict[int, int]]
    instances: list[dict[int, int]] | None = None
    render_seed: int = 0
    noise: bool = True
    detector_noise: DetectorNoise | None = None
    changes: ChangeHistory | None = None

    @property
    def final_scene(self) -> Scene:
        """The room as the recording leaves it (the first loop's room when nothing changed)."""
        return self.scene if self.changes is None else self.changes.scene_at(self.scene, self.changes.loops - 1)

    @property
    def n_frames(self) -> int:
        return len(self.camera)

    @property
    def min_visible_pixels(self) -> int:
        return max(1, int(round(MIN_VISIBLE_FRACTION * self.width * self.height)))

    def frames_seen(self, object_id: int, min_pixels: int | None = None) -> list[int]:
        """0-based frames in which the object covers at least `min_pixels` (default: seen)."""
        threshold = self.min_visible_pixels if min_pixels is None else min_pixels
        return [i for i, counts in enumerate(self.visibility) if counts.get(object_id, 0) >= threshold]

    def first_seen(self, object_id: int, min_pixels: int | None = None) -> int | None:
        frames = self.frames_seen(object_id, min_pixels)
        return frames[0] if frames else None

    def camera_center(self, frame: int) -> np.ndarray:
        return self.camera.poses[frame, :3, 3]

    def rendered(self) -> Iterator[Rendered]:
        """Re-render the recording: the same frames (images, noise, instance ids) as its bag."""
        if self.changes is not None:
            frames = render_changes(self.scene, self.changes, self.camera, self.K, self.width, self.height,
                                    seed=self.render_seed, noise=self.noise)
        else:
            frames = render_sequence(self.scene, self.camera, self.K, self.width, self.height,
                                     seed=self.render_seed, noise=self.noise)
        if self.detector_noise is None:
            return frames
        return apply_detector_noise(frames, self.detector_noise, [self.scene.seed, self.render_seed, 23])

    def to_dict(self) -> dict:
        return {
            "format": FORMAT,
            "scene": self.scene.to_dict(),
            "camera": {
                "K": self.K.tolist(),
                "width": self.width,
                "height": self.height,
                "frame_id": "camera_color_optical_frame",
                "world_frame_id": "map",
                "render_seed": self.render_seed,
                "noise": self.noise,
                **({"detector_noise": self.detector_noise.to_dict()} if self.detector_noise else {}),
                "frames": [
                    {
                        "index": i,
                        "timestamp": float(self.camera.timestamps[i]),
                        "T_world_camera": self.camera.poses[i].tolist(),
                        "visible": {str(k): v for k, v in sorted(self.visibility[i].items())},
                        **({"instances": {str(k): v for k, v in sorted(self.instances[i].items())}}
                           if self.instances is not None else {}),
                    }
                    for i in range(self.n_frames)
                ],
            },
            **({"changes": self.changes.to_dict()} if self.changes is not None else {}),
        }

    @classmethod
    def from_dict(cls, d: dict) -> GroundTruth:
        if d.get("format") != FORMAT:
            raise ValueError(f"unsupported ground-truth format {d.get('format')!r}, expected {FORMAT!r}")
        cam = d["camera"]
        frames = cam["frames"]
        return cls(
            scene=Scene.from_dict(d["scene"]),
            camera=CameraPath(
                np.array([f["T_world_camera"] for f in frames], dtype=np.float64).reshape(-1, 4, 4),
                np.array([f["timestamp"] for f in frames], dtype=np.float64),
            ),
            K=np.asarray(cam["K"], dtype=np.float64),
            width=int(cam["width"]),
            height=int(cam["height"]),
            visibility=[{int(k): int(v) for k, v in f["visible"].items()} for f in frames],
            instances=([{int(k): int(v) for k, v in f["instances"].items()} for f in frames]
                       if all("instances" in f for f in frames) else None),
            render_seed=int(cam.get("render_seed", 0)),
            noise=bool(cam.get("noise", True)),
            detector_noise=(DetectorNoise.from_dict(cam["detector_noise"]) if "detector_noise" in cam else None),
            changes=ChangeHistory.from_dict(d["changes"]) if "changes" in d else None,
        )

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict()))

    @classmethod
    def load(cls, path: str | Path) -> GroundTruth:
        return cls.from_dict(json.loads(Path(path).read_text()))
