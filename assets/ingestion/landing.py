"""Watching the landing zone: which deliveries are new or changed, and which runs they need.

Plain functions over file stamps and a JSON-able state, so the sensor stays a thin wrapper and the planning
rules are tested without Dagster. Content hashes (not modification times) decide what changed, so touching a
file or re-copying identical content requests nothing; a file is hashed again only when its size or mtime
changes. Files still being written (modified within the settle time) are left for a later tick.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from assets.ingestion.files import sha256_file

ORG_FILES = ("teams.csv", "employees.csv")
SURVEY_FILES = ("survey.json", "invitations.csv", "responses.csv")


@dataclass(frozen=True)
class Stamp:
    size: int
    mtime_ns: int
    sha256: str


@dataclass
class WatchState:
    """What the sensor remembers between ticks (its cursor)."""

    files: dict[str, list] = field(default_factory=dict)  # path -> [size, mtime_ns, sha256]
    org: str | None = None  # signature of the org files last requested
    surveys: dict[str, str] = field(default_factory=dict)  # survey_id -> "survey signature:org signature"

    def to_json(self) -> dict:
        return {"files": self.files, "org": self.org, "surveys": self.surveys}

    @classmethod
    def from_json(cls, data: dict | None) -> WatchState:
        data = data or {}
        return cls(files=dict(data.get("files", {})), org=data.get("org"), surveys=dict(data.get("surveys", {})))


@dataclass
class Plan:
    run_org: str | None = None  # org signature to request a run for
    run_surveys: dict[str, str] = field(default_factory=dict)  # survey_id -> run key suffix
    new_partitions: list[str] = field(default_factory=list)
    deferred: list[str] = field(default_factory=list)  # surveys waiting for the org run
    unsettled: list[str] = field(default_factory=list)  # files still being written


def stamp(path: Path, known: dict[str, list], now: float, settle_seconds: float) -> Stamp | None:
    """The file's stamp, reusing the known hash when size and mtime are unchanged; None while it settles."""
    try:
        info = path.stat()
    except OSError:
        return None
    if now - info.st_mtime < settle_seconds:
        return None
    previous = known.get(str(path))
    if previous and previous[0] == info.st_size and previous[1] == info.st_mtime_ns:
        return Stamp(info.st_size, info.st_mtime_ns, previous[2])
    return Stamp(info.st_size, info.st_mtime_ns, sha256_file(path))


def signature(stamps: dict[str, Stamp]) -> str:
    text = "\n".join(f"{name}:{s.sha256}" for name, s in sorted(stamps.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _stamp_folder(
    folder: Path,
    names: tuple[str, ...],
    state: WatchState,
    now: float,
    settle_seconds: float,
    files: dict[str, list],
    result: Plan,
) -> tuple[dict[str, Stamp], bool]:
    """Stamps of a delivery's files that exist; True as second value while any of them is still being written.

    Settled stamps go into ``files`` (the next cursor); unsettled files keep their previous entry there.
    """
    stamps: dict[str, Stamp] = {}
    pending = False
    for name in names:
        path = folder / name
        if not path.exists():
            continue
        s = stamp(path, state.files, now, settle_seconds)
        if s is None:
            result.unsettled.append(str(path))
            pending = True
            if str(path) in state.files:
                files[str(path)] = state.files[str(path)]
            continue
        stamps[name] = s
        files[str(path)] = [s.size, s.mtime_ns, s.sha256]
    return stamps, pending


def _already_loaded(stamps: dict[str, Stamp], folder: Path, loaded: Mapping[str, str]) -> bool:
    return bool(stamps) and all(loaded.get(str(folder / name)) == s.sha256 for name, s in stamps.items())


def plan(
    landing: Path,
    state: WatchState,
    known_partitions: set[str],
    org_run_active: bool,
    now: float,
    settle_seconds: float = 2.0,
    loaded: Mapping[str, str] | None = None,
) -> tuple[Plan, WatchState]:
    """Decide the runs for this tick and the state to remember.

    - Changed org files: one org run; surveys wait for it, because their rows are checked against the org.
    - A new or changed survey folder, or a new org version: one run for that survey partition. The run key
      names both signatures, so each combination runs once.
    - ``loaded`` maps file paths to the content hash of the delivery now in the warehouse: files seen for the
      first time that are already loaded (e.g. by ``novora materialize``) are remembered, not run again.
    """
    loaded = loaded or {}
    result = Plan()
    files: dict[str, list] = {}
    org_stamps, pending_org = _stamp_folder(landing / "org", ORG_FILES, state, now, settle_seconds, files, result)
    org_signature = signature(org_stamps) if org_stamps and not pending_org else state.org
    new_state = WatchState(files=files, org=state.org, surveys=dict(state.surveys))
    if org_signature and org_signature != state.org:
        if not (state.org is None and _already_loaded(org_stamps, landing / "org", loaded)):
            result.run_org = org_signature
        new_state.org = org_signature
    wait_for_org = result.run_org is not None or org_run_active or pending_org or new_state.org is None

    surveys_root = landing / "surveys"
    folders = sorted(p for p in surveys_root.iterdir() if p.is_dir()) if surveys_root.is_dir() else []
    for folder in folders:
        survey_id = folder.name
        if not (folder / "survey.json").exists():
            continue
        stamps, pending = _stamp_folder(folder, SURVEY_FILES, state, now, settle_seconds, files, result)
        if survey_id not in known_partitions:
            result.new_partitions.append(survey_id)
        if pending:
            continue
        key = f"{signature(stamps)}:{new_state.org}"
        if state.surveys.get(survey_id) == key:
            continue
        if survey_id not in state.surveys and _already_loaded(stamps, folder, loaded) and not result.run_org:
            new_state.surveys[survey_id] = key
            continue
        if wait_for_org:
            result.deferred.append(survey_id)
            continue
        result.run_surveys[survey_id] = key
        new_state.surveys[survey_id] = key
    return result, new_state
