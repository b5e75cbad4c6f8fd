"""The memory over time as a Rerun recording: `reasmory-replay --rerun OUT.rrd` and the node's
`rerun` parameter (a file, or a viewer to stream to).

Entities (world frame z up, the camera's optical frame RDF):

    world/camera           camera pose (Transform3D), every integrated frame
    world/camera/image     the colour image, downscaled to IMAGE_WIDTH pixels, as JPEG; the pinhole
    world/map              the scene map points in colour, at map_publish_rate
    world/objects          object boxes with "label #id", in label colours, at marker_rate
    world/trajectory       the camera path, and world/keyframes the stored views, at marker_rate
    answers                each question, its program and answer (markdown)
    world/answer           what the answer touched: highlighted boxes, distances, routes, points

Two timelines: `time` (the bag's recording time in the replay, the frame stamp in the node) and
`frame` (1-based frame number). rerun-sdk is optional (`pip install reasmory_ros[rerun]`).
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np

from reasmory_ros.config.settings import NodeSettings
from reasmory_ros.replay.record import ANSWER_STEP, RecordError, output_path
from reasmory_ros.visual.markers import HIGHLIGHT, label_color

IMAGE_WIDTH = 160
"""px: the logged camera image is strided down to about this width (a few kB per frame)."""
JPEG_QUALITY = 85
CAMERA_BATCH = 64
"""Frames of camera poses and images sent in one `send_columns` call (also sent at each state
refresh, so a live viewer lags by at most 1 / marker_rate)."""


def _rerun():
    try:
        import rerun
    except ImportError as err:
        raise RecordError("a Rerun recording needs the optional rerun-sdk: pip install 'rerun-sdk==0.41.0' "
                          "(or pip install 'reasmory_ros[rerun]')") from err
    return rerun


def _jpeg(rgb: np.ndarray) -> bytes:
    """JPEG bytes of a small RGB image: a tenth of the raw size, cheaper to write than to send raw."""
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(rgb).save(out, format="JPEG", quality=JPEG_QUALITY)
    return out.getvalue()


def _rgb(label: str) -> tuple[int, int, int]:
    color = label_color(label)
    return int(255 * color.r), int(255 * color.g), int(255 * color.b)


class RerunLogger:
    """Logs frames and answers to one Rerun recording stream; `target` is an .rrd path to save to
    or a viewer URL (rerun+http://HOST:PORT/proxy) to stream to."""

    def __init__(self, target: str | Path, outputs: NodeSettings, application_id: str = "reasmory"):
        rr = self.rr = _rerun()
        self.outputs = outputs  # marker_rate and map_publish_rate pace the state logging
        self.rec = rr.RecordingStream(application_id)
        if str(target).startswith(("rerun://", "rerun+http://", "rerun+https://")):
            self.path = str(target)
            self.rec.connect_grpc(str(target))
        else:
            self.path = output_path(target, ".rrd")
            try:
                self.rec.save(self.path)
            except Exception as err:  # noqa: BLE001 - rerun reports an unusable file its own way
                raise RecordError(f"cannot write {self.path}: {err}") from err
        self.rec.log("world", rr.ViewCoordinates.RIGHT_HAND_Z_UP, static=True)
        self._due = {"markers": None, "map": None}
        self.counts: dict[str, int] = {}
        self.error: str | None = None
        self.warnings: list[str] = []
        self._last_time = 0.0
        self._memory = None
        self._camera: list[tuple] = []  # (time, frame number, translation, rotation, small image) not sent yet
        self._pinhole = None

    def _log(self, entity: str, *archetypes) -> None:
        self.rec.log(entity, *archetypes)
        self.counts[entity] = self.counts.get(entity, 0) + 1

    def _time(self, time: float, frame: int | None = None) -> None:
        self.rec.set_time("time", timestamp=time)
        if frame is not None:
            self.rec.set_time("frame", sequence=frame)

    def log_frame(self, frame, memory, time: float) -> None:
        """One integrated frame (as the memory took it: a pose perception estimated included):
        camera and image always, map and objects when their period passed."""
        rr = self.rr
        self._last_time = time
        self._time(time, frame.index + 1)
        pose = frame.T_world_camera
        stride = max(1, math.ceil(frame.rgb.shape[1] / IMAGE_WIDTH))
        K = np.asarray(frame.K, dtype=np.float64).copy()
        K[:2] /= stride
        small = np.ascontiguousarray(frame.rgb[::stride, ::stride])  # PIL wants contiguous rows
        if (K.tobytes(), small.shape) != self._pinhole:  # the camera's intrinsics: logged when they change
            self._flush_camera()
            self._pinhole = (K.tobytes(), small.shape)
            self._log("world/camera/image", rr.Pinhole(image_from_camera=K, resolution=[small.shape[1], small.shape[0]],
                                                       camera_xyz=rr.ViewCoordinates.RDF, image_plane_distance=0.3))
        self._camera.append((time, frame.index + 1, pose[:3, 3], pose[:3, :3], _jpeg(small)))
        if len(self._camera) >= CAMERA_BATCH:
            self._flush_camera()
        for name, rate in (("markers", self.outputs.marker_rate), ("map", self.outputs.map_publish_rate)):
            due = self._due[name]
            if rate > 0 and (due is None or time >= due):
                self._due[name] = time + 1.0 / rate
                self._flush_camera()
                self._log_state(name, memory.snapshot())

    def _flush_camera(self) -> None:
        """Send the buffered camera poses and images as columns: one call per batch, not per frame."""
        if not self._camera:
            return
        rr = self.rr
        times, frames, translations, rotations, images = zip(*self._camera)
        self._camera.clear()
        indexes = [rr.TimeColumn("time", timestamp=times), rr.TimeColumn("frame", sequence=frames)]
        self.rec.send_columns("world/camera", indexes=indexes, columns=rr.Transform3D.columns(
            translation=np.array(translations), mat3x3=np.array(rotations)))
        self.rec.send_columns("world/camera/image", indexes=indexes, columns=rr.EncodedImage.columns(
            blob=list(images), media_type=["image/jpeg"] * len(images)))
        for entity in ("world/camera", "world/camera/image"):
            self.counts[entity] = self.counts.get(entity, 0) + len(images)

    def _log_state(self, name: str, snapshot) -> None:
        rr = self.rr
        if name == "map":
            scene_map = snapshot.scene_map
            self._log("world/map", rr.Points3D(scene_map.points, colors=scene_map.colors,
                                               radii=scene_map.voxel_size / 2))
            return
        self._log("world/objects", self._boxes(snapshot.objects, [_rgb(obj.label) for obj in snapshot.objects]))
        positions = snapshot.trajectory.poses[:, :3, 3]
        self._log("world/trajectory", rr.LineStrips3D([positions], colors=[(50, 200, 50)], radii=0.01))
        keyframes = np.array([k.T_world_camera[:3, 3] for k in snapshot.keyframes]).reshape(-1, 3)
        self._log("world/keyframes", rr.Points3D(keyframes, colors=[(255, 255, 255)], radii=0.04,
                                                 labels=[f"frame {k.frame_index + 1}" for k in snapshot.keyframes]))

    def _boxes(self, objects, colors, radius: float = 0.01):
        rr = self.rr
        return rr.Boxes3D(
            centers=[obj.center for obj in objects], half_sizes=[obj.extent / 2 for obj in objects],
            rotation_axis_angles=[rr.RotationAxisAngle(axis=(0, 0, 1), radians=float(obj.yaw)) for obj in objects],
            colors=colors, labels=[f"{obj.label} #{obj.id}" for obj in objects], radii=radius)

    def log_answer(self, question: str, result, snapshot, time: float) -> None:
        """A question with its program and answer, and what the answer touched, highlighted."""
        rr = self.rr
        self._time(time)
        answer = (result.text or str(result.answer)) if result.ok else f"error: {result.error}"
        self._log("answers", rr.TextDocument(
            f"**Q:** {question}\n\n**program:** `{result.program or ''}`\n\n**answer:** {answer}",
            media_type=rr.MediaType.MARKDOWN))
        self.rec.log("world/answer", rr.Clear(recursive=True))
        touched = result.dsl_answer.touched if result.ok and result.dsl_answer is not None else None
        if touched is None:
            return
        highlight = tuple(int(255 * c) for c in HIGHLIGHT[:3])
        objects = [obj for obj in snapshot.objects if obj.id in set(touched.object_ids)]
        if objects:
            self._log("world/answer/objects", self._boxes(objects, [highlight] * len(objects), radius=0.03))
        if touched.segments:
            self._log("world/answer/distances", rr.LineStrips3D(
                [[s.start, s.end] for s in touched.segments], colors=[(50, 230, 255)], radii=0.02,
                labels=[f"{np.linalg.norm(np.subtract(s.end, s.start)):.2f} m" for s in touched.segments]))
        if touched.paths:
            strips = [np.column_stack([p, np.zeros(len(p))]) if p.shape[1] == 2 else p for p in touched.paths]
            self._log("world/answer/routes", rr.LineStrips3D(strips, colors=[(80, 255, 80)], radii=0.03))
        if touched.points:
            self._log("world/answer/points", rr.Points3D(np.array(touched.points), colors=[(255, 50, 200)],
                                                         radii=0.08))

    def close(self) -> None:
        """Flush what is buffered to the file or viewer and end the stream."""
        self._flush_camera()
        self.rec.flush()
        self.rec.disconnect()


class RerunRecorder(RerunLogger):
    """`reasmory-replay --rerun`: frames over the bag's time, then the answers ANSWER_STEP apart."""

    def step(self, step) -> None:
        self._memory = step.memory
        self.log_frame(step.frame, step.memory, step.bag_time)

    def finish(self, results) -> None:
        if self._memory is not None:
            snapshot = self._memory.snapshot()
            for name in ("markers", "map"):
                self._log_state(name, snapshot)
            for i, (row, result) in enumerate(results, start=1):
                self.log_answer(row["question"], result, snapshot, self._last_time + i * ANSWER_STEP)
        self.close()

    def discard(self) -> None:
        self.close()
        if isinstance(self.path, Path):
            self.path.unlink(missing_ok=True)
