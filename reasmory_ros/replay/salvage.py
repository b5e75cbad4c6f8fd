"""What is left of a damaged rosbag2 recording, read from the start up to the damage.

rosbags refuses a bag whose storage file is cut short: a recorder that died leaves an MCAP file
without its summary and footer, an interrupted copy leaves a sqlite3 database shorter than its
header says, and neither may have a `metadata.yaml`. Those files still hold every record written
before the damage. The readers here walk the storage file from its beginning, the way
`ros2 bag reindex` and `mcap recover` do, and stop at the first record that cannot be read, so
replay keeps the frames recorded before the damage and says where it stopped.

Only the storage files are read (never written); nothing is copied.
"""

from __future__ import annotations

import itertools
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path

import apsw

_MCAP_MAGIC = b"\x89MCAP0\r\n"
_SQLITE_MAGIC = b"SQLite format 3\x00"
_vfs_names = itertools.count()


class SalvageError(RuntimeError):
    """Nothing usable could be read: no storage file, or not even its topics are readable."""


@dataclass
class Salvage:
    """The readable part of a bag: topic -> message type, the messages in file order, and
    `damage` (None while nothing was wrong, else where and why reading stopped)."""

    files: list[Path]
    topics: dict[str, str] = field(default_factory=dict)
    damage: str | None = None

    def messages(self) -> Iterator[tuple[str, str, int, bytes]]:
        """(topic, message type, bag time ns, serialized CDR) up to the first damaged record."""
        for path in self.files:
            reader = _read_mcap if path.suffix == ".mcap" else _read_sqlite
            for topic, timestamp, raw in reader(path, self):
                yield topic, self.topics[topic], timestamp, raw
            if self.damage:
                return


def storage_files(path: str | Path) -> list[Path]:
    """The storage files of a bag directory (or the file itself), in name order (split bags)."""
    path = Path(path)
    if path.is_file():
        return [path]
    return sorted(p for p in path.iterdir() if p.suffix in (".mcap", ".db3") and p.is_file())


def salvage(path: str | Path) -> Salvage:
    """Read the topics of a damaged bag; SalvageError when there is nothing to read."""
    files = storage_files(path)
    if not files:
        raise SalvageError(f"{path} holds no .mcap or .db3 storage file")
    result = Salvage(files)
    for file in files:
        if file.suffix == ".mcap":
            _mcap_topics(file, result)
        else:
            _sqlite_topics(file, result)
    if not result.topics:
        raise SalvageError(f"no topic of {path} is readable")
    return result


# ---------------------------------------------------------------------------------------------
# sqlite3: a database cut short is padded with zero pages up to the size its header declares;
# a b-tree walk that reaches a missing page then fails with a corruption error, after the rows
# stored before it.


class _PaddedFile(apsw.VFSFile):
    def __init__(self, path: Path, size: int):
        self._file = path.open("rb")
        self._real = path.stat().st_size
        self._size = size

    def xRead(self, amount: int, offset: int) -> bytes:
        self._file.seek(offset)
        data = self._file.read(amount) if offset < self._real else b""
        return data + b"\0" * (amount - len(data))

    def xFileSize(self) -> int:
        return self._size

    def xClose(self) -> None:
        self._file.close()

    def xDeviceCharacteristics(self) -> int:
        return 0

    def xSectorSize(self) -> int:
        return 0

    def xLock(self, level: int) -> None:
        return None

    def xUnlock(self, level: int) -> None:
        return None

    def xCheckReservedLock(self) -> bool:
        return False

    def xFileControl(self, op: int, ptr: int) -> bool:
        return False


class _PaddedVfs(apsw.VFS):
    def __init__(self, path: Path, size: int):
        self.name = f"reasmory-salvage-{next(_vfs_names)}"
        self._path, self._size = path, size
        super().__init__(self.name, "")

    def xOpen(self, name, flags):
        filename = name.filename() if isinstance(name, apsw.URIFilename) else name
        if filename is None or Path(filename) != self._path:  # temporary files of the query engine
            return super().xOpen(name, flags)
        return _PaddedFile(self._path, self._size)


def _declared_size(path: Path) -> int:
    with path.open("rb") as handle:
        header = handle.read(100)
    if len(header) < 100 or not header.startswith(_SQLITE_MAGIC):
        raise SalvageError(f"{path} is not a sqlite3 database (its first page is missing)")
    (page_size,) = struct.unpack(">H", header[16:18])
    page_size = 65536 if page_size == 1 else page_size
    (pages,) = struct.unpack(">I", header[28:32])
    return max(pages * page_size, path.stat().st_size)


class _Database:
    """A read-only connection to a possibly truncated database, closed with its VFS."""

    def __init__(self, path: Path):
        self._vfs = _PaddedVfs(path, _declared_size(path))
        # immutable: no locks, journal or WAL files are looked for; only the file itself is read.
        self.connection = apsw.Connection(f"file:{path}?immutable=1", vfs=self._vfs.name,
                                          flags=apsw.SQLITE_OPEN_READONLY | apsw.SQLITE_OPEN_URI)

    def __enter__(self) -> apsw.Connection:
        return self.connection

    def __exit__(self, *exc) -> None:
        self.connection.close()
        self._vfs.unregister()


def _sqlite_topics(path: Path, result: Salvage) -> None:
    try:
        with _Database(path) as db:
            for _, name, msgtype in db.execute("SELECT id, name, type FROM topics"):
                result.topics[name] = msgtype
    except apsw.Error as err:
        raise SalvageError(f"{path}: the topics table is unreadable ({err})") from err


def _read_sqlite(path: Path, result: Salvage) -> Iterator[tuple[str, int, bytes]]:
    rows = 0
    try:
        with _Database(path) as db:
            names = dict(db.execute("SELECT id, name FROM topics"))
            for topic_id, timestamp, data in db.execute("SELECT topic_id, timestamp, data FROM messages ORDER BY id"):
                if topic_id not in names or timestamp is None or data is None:
                    result.damage = f"{path.name}: unreadable after {rows} messages (a damaged message row)"
                    return
                rows += 1
                yield names[topic_id], int(timestamp), bytes(data)
    except apsw.Error as err:
        result.damage = f"{path.name}: unreadable after {rows} messages ({type(err).__name__}: {err})"


# ---------------------------------------------------------------------------------------------
# MCAP: records are (opcode u8, length u64, content); schemas, channels and messages may sit in
# the data section or inside chunks. A record that runs past the end of the file is the damage.


class _Truncated(Exception):
    pass


def _take(bio: BytesIO, size: int) -> bytes:
    data = bio.read(size)
    if len(data) != size:
        raise _Truncated("a record is cut short (the file ends inside it)")
    return data


def _string(bio: BytesIO) -> str:
    (size,) = struct.unpack("<I", _take(bio, 4))
    return _take(bio, size).decode("utf-8")


def _records(bio) -> Iterator[tuple[int, bytes]]:
    """(opcode, content) of each record until the footer or the end of the data. A chunk cut
    short is yielded as far as it goes (its complete records are still readable when it is not
    compressed); any other record cut short is the damage."""
    while True:
        head = bio.read(9)
        if not head:
            return
        if len(head) < 9:
            raise _Truncated("a record header is cut short (the file ends inside it)")
        opcode, size = head[0], struct.unpack("<Q", head[1:])[0]
        if opcode == 0x02:  # footer: the summary follows, nothing more to salvage
            return
        if opcode == 0x06:
            content = bio.read(size)
            yield opcode, content
            if len(content) < size:
                raise _Truncated("a chunk is cut short (the file ends inside it)")
            continue
        yield opcode, _take(bio, size)


def _mcap_walk(path: Path, result: Salvage, schemas: dict, channels: dict) -> Iterator[tuple[int, bytes]]:
    """Every record of the data section, chunks opened; keeps schemas and channels up to date."""
    from rosbags.rosbag2.storage_mcap import decompress

    with path.open("rb") as bio:
        if bio.read(8) != _MCAP_MAGIC:
            raise SalvageError(f"{path} is not an MCAP file")
        stack = [_records(bio)]
        while stack:
            try:
                opcode, content = next(stack[-1])
            except StopIteration:
                stack.pop()
                continue
            rec = BytesIO(content)
            if opcode == 0x03:  # schema
                (schema_id,) = struct.unpack("<H", _take(rec, 2))
                schemas[schema_id] = _string(rec)
            elif opcode == 0x04:  # channel
                channel_id, schema_id = struct.unpack("<HH", _take(rec, 4))
                channels[channel_id] = (_string(rec), schemas.get(schema_id, ""))
                topic, msgtype = channels[channel_id]
                result.topics.setdefault(topic, msgtype)
            elif opcode == 0x06 and len(stack) == 1:  # chunk
                _, _, size, crc = struct.unpack("<QQQI", _take(rec, 28))
                compression = _string(rec)
                (compressed,) = struct.unpack("<Q", _take(rec, 8))
                data = rec.read(compressed)
                if len(data) < compressed and compression == "":  # the complete records before the cut
                    stack.append(_records(BytesIO(data)))
                else:
                    stack.append(_records(BytesIO(decompress(data, compression, size, crc))))
            else:
                yield opcode, content


def _mcap_topics(path: Path, result: Salvage) -> None:
    """Channels may be declared anywhere before their first message: one pass over the file."""
    try:
        for _ in _mcap_walk(path, result, {}, {}):
            pass
    except SalvageError:
        raise
    except Exception:  # damage: the topics seen before it are what there is
        pass


def _read_mcap(path: Path, result: Salvage) -> Iterator[tuple[str, int, bytes]]:
    channels: dict[int, tuple[str, str]] = {}
    messages = 0
    try:
        for opcode, content in _mcap_walk(path, result, {}, channels):
            if opcode != 0x05:
                continue
            channel_id, _, log_time, _ = struct.unpack("<HIQQ", content[:22])
            if channel_id in channels:
                messages += 1
                yield channels[channel_id][0], log_time, content[22:]
    except SalvageError:
        raise
    except Exception as err:  # a cut record, a chunk that fails its checksum or decompression
        why = str(err) if isinstance(err, _Truncated) else f"{type(err).__name__}: {err}"
        result.damage = f"{path.name}: unreadable after {messages} messages ({why})"
