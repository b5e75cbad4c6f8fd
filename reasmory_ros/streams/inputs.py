"""The inputs of one stream, routed to the `FrameAssembler`: the one front door of the live node and
the bag replay, so both turn the same messages into the same frames.

Frame parts go to the assembler as they are. `/tf` and `/tf_static` feed a ROS-free tf buffer
(streams/tf.py): with `pose_source: tf` an image's pose is looked up there once tf covers its
stamp. Where `depth_info_topic` is set, depth is the depth camera's own image: it is registered
into the colour camera (streams/registration.py) with both camera_infos and the colour <- depth
transform from that buffer at the depth image's stamp. A depth image that comes before both
camera_infos or that transform (DDS delivers each topic on its own) waits for them, up to
`max_pending` images. A problem costs only the message it touches, and is counted against its
frame part.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from reasmory_ros.memory.frame import Frame
from reasmory_ros.perception.stage import FrameInputs
from reasmory_ros.streams.assembler import FrameAssembler
from reasmory_ros.streams.camera import Intrinsics, intrinsics
from reasmory_ros.streams.errors import DecodeError
from reasmory_ros.streams.images import decode_depth
from reasmory_ros.streams.registration import DepthRegistration
from reasmory_ros.streams.tf import DisconnectedError, ExtrapolationError, TfBuffer, TfError, TfPoses, UnknownFrameError

if TYPE_CHECKING:
    from reasmory_ros.config.settings import Settings

TF_WAIT_S = 1.0
"""Stream time an image waits for tf data covering its stamp before its pose is refused."""
TF_PARTS = ("tf", "tf_static")
COUNTED_AS = {"tf": "pose", "tf_static": "pose", "depth_info": "depth"}
"""The frame part a problem of an auxiliary input is counted against."""


class StreamInputs:
    """Messages of a stream -> frames. `add` returns the frames each message completes."""

    def __init__(self, settings: Settings, assembler: FrameAssembler, *, tf_poses: bool = True):
        """tf_poses: look poses up in this buffer when `pose_source` is tf (the node passes False
        where tf2_ros does the lookups)."""
        self._assembler = assembler
        streams = settings.streams
        self.tf = TfBuffer()
        self.poses: TfPoses | None = None
        if streams.pose_source == "tf" and tf_poses:
            self.poses = TfPoses(settings.node.frame_id, streams.camera_frame, pose=self._pose,
                                 refuse=self._refuse_pose, wait=TF_WAIT_S, buffer=self.tf)
        self._camera_frame = streams.camera_frame
        self._register = bool(streams.depth_info_topic)
        self._color_frame = ""  # the colour camera_info's frame_id: the colour optical frame
        self._color_info: Intrinsics | None = None
        self._depth_info: Intrinsics | None = None
        self._registration: tuple[tuple, DepthRegistration] | None = None
        self._unregistered: deque = deque()  # (stamp, msg, received) of depth waiting for calibration
        self._max_unregistered = streams.max_pending

    @property
    def needs_tf(self) -> bool:
        """Whether tf messages are used: for poses, or for the depth -> colour extrinsic."""
        return self.poses is not None or self._register

    @property
    def pose_refusals(self) -> dict[str, int]:
        """Images whose pose tf could not give, per reason (extrapolation, gap, ...)."""
        return {} if self.poses is None else dict(self.poses.refused)

    def add(self, part: str, stamp: int | None, msg, now: float, received: float | None = None) -> list[Frame | FrameInputs]:
        """One message of `part` (a frame part, "tf", "tf_static" or "depth_info") stamped `stamp`
        (ns; None for labels), at stream time `now` (s: the assembler's clock). received: when it
        was sent, if known (pairs labels with instances), else `now`."""
        if part in TF_PARTS:
            static = part == "tf_static"
            if self.poses is not None:
                return self.poses.add_tf(msg, static, now) + self._register_waiting()
            for problem in self.tf.add_message(msg, static):
                self._assembler.report("depth", "bad transform", problem)
            return self._register_waiting()
        if part in ("camera_info", "depth_info"):
            try:
                info = intrinsics(msg)
                if part == "depth_info":
                    self._depth_info = info
                    return self._register_waiting()
                self._color_info, self._color_frame = info, msg.header.frame_id
            except DecodeError as err:
                if part == "depth_info":
                    self._assembler.report("depth", "depth camera_info", f"depth camera_info refused: {err}")
                    return []
        if part == "depth" and self._register:
            return self._registered_depth(stamp, msg, received)
        frames = self._assembler.add(part, stamp, msg, received=received)
        if part == "camera_info":
            frames += self._register_waiting()
        if part == "color" and self.poses is not None:
            frames += self.poses.request(stamp, msg.header.frame_id, now)
        elif self.poses is not None:
            frames += self.poses.update(now)
        return frames

    def finish(self) -> list[Frame | FrameInputs]:
        """The end of a stream: poses still waiting for tf are resolved or refused, and so is depth
        still waiting for its calibration."""
        frames = [] if self.poses is None else self.poses.finish()
        frames += self._register_waiting(final=True)
        return frames

    def _pose(self, stamp: int, T) -> list:
        return self._assembler.add_decoded("pose", stamp, T)

    def _refuse_pose(self, reason: str, message: str) -> None:
        self._assembler.report("pose", f"tf {reason}", message)

    def _registered_depth(self, stamp: int, msg, received: float | None) -> list:
        """Depth registered into the colour camera, after the depth images still waiting."""
        self._unregistered.append((stamp, msg, received))
        if len(self._unregistered) > self._max_unregistered:
            oldest = self._unregistered.popleft()
            self._refuse_depth(oldest[0], f"{self._max_unregistered} newer depth images came while it waited for "
                                          f"{self._missing_calibration() or 'the colour <- depth transform'}")
        return self._register_waiting()

    def _register_waiting(self, final: bool = False) -> list:
        """Register the waiting depth images in order, until one must wait for more calibration
        (all are registered or refused when final); a problem costs that depth image only."""
        frames = []
        while self._unregistered:
            stamp, msg, received = self._unregistered[0]
            try:
                missing = self._missing_calibration()
                if missing:
                    raise DecodeError(f"no {missing} received yet")
                registration = self._registration_for(stamp, msg.header.frame_id)
            except (DecodeError, TfError, ValueError) as err:  # ValueError: a camera_info without an image size
                more_may_come = isinstance(err, (DecodeError, UnknownFrameError, DisconnectedError)) or (
                    isinstance(err, ExtrapolationError) and err.future)
                if more_may_come and not final:
                    break
                self._unregistered.popleft()
                self._refuse_depth(stamp, str(err))
                continue
            self._unregistered.popleft()
            try:
                depth = registration(decode_depth(msg))
            except DecodeError as err:
                self._refuse_depth(stamp, str(err))
                continue
            frames += self._assembler.add_decoded("depth", stamp, depth, received)
        return frames

    def _missing_calibration(self) -> str:
        names = [name for name, info in (("colour camera_info", self._color_info),
                                         ("depth camera_info", self._depth_info)) if info is None]
        return " and ".join(names)

    def _refuse_depth(self, stamp: int, why: str) -> None:
        self._assembler.report("depth", "registration", f"depth image stamped {stamp * 1e-9:.3f} s not registered: {why}")

    def _registration_for(self, stamp: int, depth_frame: str) -> DepthRegistration:
        """The registration of the current calibration (rebuilt only when it changes)."""
        T = self.tf.lookup(self._camera_frame or self._color_frame, depth_frame, stamp)
        key = (self._depth_info.K.tobytes(), self._depth_info.width, self._color_info.K.tobytes(),
               self._color_info.width, T.round(6).tobytes())
        if self._registration is None or self._registration[0] != key:
            self._registration = (key, DepthRegistration(self._depth_info, self._color_info, T))
        return self._registration[1]
