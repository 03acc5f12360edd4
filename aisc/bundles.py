"""Offline bundles: a compiled plan packed with every source document it came from.

A bundle is a deterministic ``.tar.gz`` (docs/compat.md §Bundles)::

    manifest.json          what is inside, with digests; its own digest in ``manifest_sha256``
    plan.json              the plan, canonical text (aisc.compiler.plan_text)
    sources/<relative>     the workflow, the pack and the protocols, byte for byte, in their layout

Entry points:

- :func:`build_bundle` — compile a workflow and return the bundle bytes (raises CompilationFailed).
- :func:`verify_bundle` — every check; returns a :class:`Verified` with its diagnostics.
- :func:`load_verified_bundle` — what ``aisc run BUNDLE`` calls: the plan JSON and the manifest of a
  bundle that passed every check, else :class:`BundleError`.
- :func:`is_bundle` — gzip magic check (to route ``aisc run`` targets).

Checks (all diagnostics are ``AISC-BUNDLE-NNN`` and name the member): safe member names (no
absolute paths, no ``..``, no links or special files, no duplicates, size limits), the manifest's
shape, canonical bytes and self-digest, the member list, each member's size, sha256 and specHash,
the plan hash, and — when the compiler is importable — that the bundled sources recompile to the
same plan bytes.

Layer: top (with cli/commands): imports aisc.compiler lazily, aisc.frontend, aisc.jcs, aisc.ir.
"""

from __future__ import annotations

import datetime as _dt
import gzip
import hashlib
import io
import json
import os
import re
import tarfile
import tempfile
import zlib
from collections.abc import Mapping
from typing import Any

import attrs

from aisc.diagnostics import AiscError, Diagnostic, has_errors
from aisc.reprs import install_reprs

FORMAT = "aisc-bundle/1"
MANIFEST = "manifest.json"
PLAN = "plan.json"
SOURCES = "sources/"
MAX_MEMBER_BYTES = 16 * 1024 * 1024
MAX_TOTAL_BYTES = 64 * 1024 * 1024
MAX_MEMBERS = 1000
MAX_ARCHIVE_BYTES = 64 * 1024 * 1024
ROLES = ("plan", "workflow", "pack", "protocol")

_SAFE_SEGMENT = re.compile(r"^[^\x00-\x1f\x7f/\\:]+$")
_MANIFEST_KEYS = {"format", "aisc_version", "created_at", "plan", "compile", "members", "manifest_sha256"}
_MEMBER_KEYS = {"path", "role", "size", "sha256", "spec_hash"}

__all__ = [
    "FORMAT",
    "BundleError",
    "Verified",
    "build_bundle",
    "bundle_created_at",
    "is_bundle",
    "load_verified_bundle",
    "read_members",
    "verify_bundle",
    "write_archive",
]


class BundleError(AiscError):
    """A bundle that cannot be used; ``diagnostics`` says why (every one names its member)."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        first = diagnostics[0].message if diagnostics else "invalid bundle"
        super().__init__(first)


@attrs.frozen(repr=False)
class Verified:
    """The outcome of :func:`verify_bundle`."""

    manifest: dict[str, Any] | None
    plan: dict[str, Any] | None
    diagnostics: tuple[Diagnostic, ...]
    recompiled: bool = False
    """True when the sources were recompiled and matched the plan byte for byte."""

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics) and self.plan is not None


def _d(code: str, bundle: str, member: str | None, message: str, hint: str, severity: str = "error") -> Diagnostic:
    where = f"member {member}: " if member else ""
    return Diagnostic(code=code, message=f"{where}{message}", severity=severity,  # type: ignore[arg-type]
                      path=f"{bundle}!{member}" if member else bundle, hint=hint)


# ---------------------------------------------------------------------------------- writing


def bundle_created_at() -> str:
    """ISO 8601 UTC with milliseconds: SOURCE_DATE_EPOCH when set (reproducible builds), else now."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    t = (_dt.datetime.fromtimestamp(int(epoch), tz=_dt.UTC) if epoch.isdigit()
         else _dt.datetime.now(tz=_dt.UTC))
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def write_archive(members: Mapping[str, bytes]) -> bytes:
    """A deterministic tar.gz: sorted names, mtime 0, uid/gid 0, no owner names, mode 0644, gzip mtime 0."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT, encoding="utf-8") as tar:
        for name in sorted(members):
            data = members[name]
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.type = tarfile.REGTYPE
            tar.addfile(info, io.BytesIO(data))
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=9) as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


def _canonical_json(obj: Any) -> bytes:
    return (json.dumps(obj, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _manifest_digest(manifest: Mapping[str, Any]) -> str:
    body = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
    return hashlib.sha256(_canonical_json(body)).hexdigest()


def _source_spec_hash(name: str, data: bytes) -> str | None:
    from aisc.frontend import load_text
    from aisc.jcs import JcsError, spec_hash

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    doc = load_text(text, name)
    if doc.raw is None or any(d.is_error and d.code.startswith("AISC-LOAD") for d in doc.diagnostics):
        return None
    try:
        return str(spec_hash(doc.raw))
    except JcsError:
        return None


def _used_sources(c: Any) -> list[tuple[str, str]]:
    """``(role, absolute path)`` of the documents a compilation used, plus extra layout roots."""
    ws = c.workspace
    out: list[tuple[str, str]] = []
    seen: set[str] = set()

    def add(role: str, path: str | None) -> None:
        if path is None or path.startswith("<"):
            return
        real = os.path.realpath(path)
        if real not in seen:
            seen.add(real)
            out.append((role, real))

    add("workflow", ws.workflow.file if ws.skeleton is None else ws.skeleton.file)
    if ws.pack is not None:
        add("pack", ws.pack.file)
    for imp in ws.imports:
        add("protocol", imp.resolved)
    for n in ws.nodes:
        if n.protocol_doc is not None:
            add("protocol", n.protocol_doc.file)
    return out


def _layout_root(c: Any, files: list[str]) -> str:
    """The common folder of the sources, widened to every folder an import was resolved against."""
    dirs = [os.path.dirname(f) for f in files]
    for imp in c.workspace.imports:
        if imp.resolved is None:
            continue
        real = os.path.realpath(imp.resolved)
        rel = os.path.normpath(imp.path)
        if not os.path.isabs(rel) and real.endswith(os.sep + rel):
            dirs.append(real[: -len(rel) - 1] or os.sep)
    return os.path.commonpath(dirs)


def build_bundle(
    workflow: str | os.PathLike[str],
    *,
    pack: str | os.PathLike[str] | None = None,
    workspace: str | os.PathLike[str] | None = None,
) -> tuple[bytes, dict[str, Any]]:
    """Compile ``workflow`` and pack the plan with its sources. Returns ``(archive bytes, manifest)``.

    Raises :class:`~aisc.diagnostics.CompilationFailed` when the workflow does not compile. The
    bytes depend only on the inputs and ``SOURCE_DATE_EPOCH`` (which fixes ``created_at``).
    """
    from aisc import __version__
    from aisc.compiler import Compilation, Options, plan_hash, plan_text

    created = bundle_created_at()
    c = Compilation(workflow, pack=pack, workspace=workspace, options=Options(created_at=created))
    plan = c.plan
    plan_bytes = plan_text(plan).encode("utf-8")
    used = _used_sources(c)
    root = _layout_root(c, [p for _, p in used])
    members: dict[str, bytes] = {PLAN: plan_bytes}
    entries: list[dict[str, Any]] = []
    phash = str(plan_hash(plan))
    entries.append({"path": PLAN, "role": "plan", "size": len(plan_bytes),
                    "sha256": hashlib.sha256(plan_bytes).hexdigest(), "spec_hash": phash})
    entry_name: str | None = None
    pack_name: str | None = None
    for role, path in used:
        name = SOURCES + os.path.relpath(path, root).replace(os.sep, "/")
        with open(path, "rb") as fh:
            data = fh.read()
        members[name] = data
        entries.append({"path": name, "role": role, "size": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                        "spec_hash": _source_spec_hash(name, data)})
        if role == "workflow":
            entry_name = name
        if role == "pack" and pack is not None:
            pack_name = name
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "aisc_version": __version__,
        "created_at": created,
        "plan": {"path": PLAN, "plan_hash": phash},
        "compile": {"entry": entry_name, "pack": pack_name},
        "members": sorted(entries, key=lambda e: str(e["path"])),
    }
    manifest["manifest_sha256"] = _manifest_digest(manifest)
    members[MANIFEST] = _canonical_json(manifest)
    return write_archive(members), manifest


# ---------------------------------------------------------------------------------- reading


def is_bundle(path: str | os.PathLike[str]) -> bool:
    """True when the file starts with the gzip magic bytes (a bundle candidate)."""
    try:
        with open(path, "rb") as fh:
            return fh.read(2) == b"\x1f\x8b"
    except OSError:
        return False


def _unsafe_name(name: str) -> str | None:
    if not name:
        return "empty name"
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return "absolute path"
    if "\\" in name:
        return "backslash in the name"
    segs = name.split("/")
    if any(s == ".." for s in segs):
        return "'..' in the path"
    if any(s in ("", ".") for s in segs):
        return "empty or '.' path segment"
    if not all(_SAFE_SEGMENT.match(s) for s in segs):
        return "control character or ':' in the name"
    return None


def read_members(path: str | os.PathLike[str]) -> tuple[dict[str, bytes], list[Diagnostic]]:
    """The regular-file members of a bundle, in memory, after every safety check (nothing is extracted)."""
    bundle = os.fspath(path)
    diags: list[Diagnostic] = []
    try:
        size = os.path.getsize(bundle)
        if size > MAX_ARCHIVE_BYTES:
            return {}, [_d("AISC-BUNDLE-006", bundle, None, f"the archive is {size} bytes (limit {MAX_ARCHIVE_BYTES})",
                           "this is not an aisc bundle, or it is far too large")]
        with open(bundle, "rb") as fh:
            compressed = fh.read()
    except OSError as e:
        return {}, [_d("AISC-BUNDLE-001", bundle, None, f"cannot read the bundle: {e.strerror}", "check the path")]
    limit = MAX_TOTAL_BYTES + (MAX_MEMBERS + 2) * 3 * 512
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(compressed), mode="rb") as gz:
            raw = gz.read(limit + 1)
            if len(raw) > limit:
                return {}, [_d("AISC-BUNDLE-006", bundle, None, f"the archive expands beyond {limit} bytes",
                               "refusing a possible decompression bomb")]
    except (OSError, EOFError, zlib.error) as e:
        return {}, [_d("AISC-BUNDLE-001", bundle, None, f"not a valid gzip file ({e})",
                       "the bundle is damaged or is not an aisc bundle; rebuild it with 'aisc bundle'")]
    members: dict[str, bytes] = {}
    total = 0
    try:
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r:") as tar:
            for count, info in enumerate(tar, start=1):
                name = info.name
                if count > MAX_MEMBERS:
                    diags.append(_d("AISC-BUNDLE-006", bundle, None, f"more than {MAX_MEMBERS} members",
                                    "this is not an aisc bundle"))
                    break
                why = _unsafe_name(name)
                if why is not None:
                    diags.append(_d("AISC-BUNDLE-003", bundle, name, f"unsafe member name ({why})",
                                    "refusing the bundle; rebuild it with 'aisc bundle'"))
                    continue
                if not info.isreg():
                    kind = ("a symbolic link" if info.issym() else "a hard link" if info.islnk()
                            else "a directory" if info.isdir() else "a special file")
                    diags.append(_d("AISC-BUNDLE-004", bundle, name, f"is {kind}, not a regular file",
                                    "bundles hold regular files only"))
                    continue
                if name in members:
                    diags.append(_d("AISC-BUNDLE-005", bundle, name, "appears more than once in the archive",
                                    "a later copy could shadow the checked one; refusing the bundle"))
                    continue
                if info.size > MAX_MEMBER_BYTES or total + info.size > MAX_TOTAL_BYTES:
                    diags.append(_d("AISC-BUNDLE-006", bundle, name, f"is {info.size} bytes (limits: "
                                    f"{MAX_MEMBER_BYTES} per member, {MAX_TOTAL_BYTES} in total)",
                                    "this is not an aisc bundle, or it is far too large"))
                    break
                stream = tar.extractfile(info)
                data = stream.read() if stream is not None else b""
                total += len(data)
                members[name] = data
    except tarfile.TarError as e:
        diags.append(_d("AISC-BUNDLE-002", bundle, None, f"not a valid tar archive ({e})",
                        "the bundle is damaged; rebuild it with 'aisc bundle'"))
    return members, diags


def _parse_manifest(bundle: str, data: bytes | None) -> tuple[dict[str, Any] | None, list[Diagnostic]]:
    hint = "the manifest was edited or damaged; rebuild the bundle with 'aisc bundle'"
    if data is None:
        return None, [_d("AISC-BUNDLE-007", bundle, MANIFEST, "missing", "every bundle starts from manifest.json")]

    def no_dupes(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in pairs]
        if len(set(keys)) != len(keys):
            raise ValueError("duplicate key")
        return dict(pairs)

    try:
        m = json.loads(data.decode("utf-8"), object_pairs_hook=no_dupes,
                       parse_float=lambda s: (_ for _ in ()).throw(ValueError("float")))
    except (UnicodeDecodeError, ValueError) as e:
        return None, [_d("AISC-BUNDLE-007", bundle, MANIFEST, f"not valid JSON ({e})", hint)]
    if not isinstance(m, dict) or set(m) != _MANIFEST_KEYS:
        got = sorted(m) if isinstance(m, dict) else type(m).__name__
        return None, [_d("AISC-BUNDLE-007", bundle, MANIFEST, f"unexpected shape (keys {got})", hint)]
    if m["format"] != FORMAT:
        return None, [_d("AISC-BUNDLE-020", bundle, MANIFEST, f"unsupported bundle format {m['format']!r} "
                         f"(this aisc reads {FORMAT})", "rebuild the bundle with this aisc version")]
    if _canonical_json(m) != data:
        return None, [_d("AISC-BUNDLE-008", bundle, MANIFEST, "its bytes are not in canonical form", hint)]
    if _manifest_digest(m) != m["manifest_sha256"]:
        return None, [_d("AISC-BUNDLE-008", bundle, MANIFEST, "manifest_sha256 does not match the manifest", hint)]
    members = m["members"]
    ok = isinstance(members, list) and all(
        isinstance(e, dict) and set(e) == _MEMBER_KEYS and isinstance(e["path"], str) and e["role"] in ROLES
        and isinstance(e["size"], int) and isinstance(e["sha256"], str)
        and (e["spec_hash"] is None or isinstance(e["spec_hash"], str)) for e in members)
    plan, comp = m["plan"], m["compile"]
    ok = ok and isinstance(plan, dict) and plan.get("path") == PLAN and isinstance(plan.get("plan_hash"), str)
    ok = ok and isinstance(comp, dict) and set(comp) == {"entry", "pack"}
    if not ok:
        return None, [_d("AISC-BUNDLE-007", bundle, MANIFEST, "unexpected shape of members/plan/compile", hint)]
    return m, []


def verify_bundle(path: str | os.PathLike[str], *, recompile: bool = True) -> Verified:
    """Run every check on a bundle file (see the module docstring). Never raises for a bad bundle."""
    bundle = os.fspath(path)
    members, diags = read_members(bundle)
    if has_errors(diags):
        return Verified(None, None, tuple(diags))
    manifest, mdiags = _parse_manifest(bundle, members.get(MANIFEST))
    diags.extend(mdiags)
    if manifest is None:
        return Verified(None, None, tuple(diags))
    listed = {str(e["path"]): e for e in manifest["members"]}
    retry = "the bundle was modified after it was built; rebuild it with 'aisc bundle'"
    for name in sorted(set(members) - set(listed) - {MANIFEST}):
        diags.append(_d("AISC-BUNDLE-010", bundle, name, "is not listed in the manifest", retry))
    for name, e in sorted(listed.items()):
        if _unsafe_name(name) is not None or name == MANIFEST:
            diags.append(_d("AISC-BUNDLE-003", bundle, name, "unsafe or reserved name in the manifest", retry))
            continue
        data = members.get(name)
        if data is None:
            diags.append(_d("AISC-BUNDLE-009", bundle, name, "is listed in the manifest but missing", retry))
            continue
        if len(data) != e["size"]:
            diags.append(_d("AISC-BUNDLE-012", bundle, name, f"is {len(data)} bytes, the manifest says {e['size']}",
                            retry))
            continue
        digest = hashlib.sha256(data).hexdigest()
        if digest != e["sha256"]:
            diags.append(_d("AISC-BUNDLE-011", bundle, name, f"sha256 {digest} does not match the manifest's "
                            f"{e['sha256']}", retry))
            continue
        if e["role"] != "plan" and e["spec_hash"] != _source_spec_hash(name, data):
            diags.append(_d("AISC-BUNDLE-013", bundle, name, "specHash does not match the manifest", retry))
    if has_errors(diags):
        return Verified(manifest, None, tuple(diags))
    plan_bytes = members[PLAN]
    plan, pdiags = _check_plan(bundle, plan_bytes, manifest)
    diags.extend(pdiags)
    recompiled = False
    if plan is not None and recompile and not has_errors(diags):
        rdiags, recompiled = _recompile(bundle, members, manifest, plan, plan_bytes)
        diags.extend(rdiags)
    return Verified(manifest, plan if not has_errors(diags) else None, tuple(diags), recompiled)


def _check_plan(bundle: str, data: bytes, manifest: Mapping[str, Any]) -> tuple[dict[str, Any] | None, list[Diagnostic]]:
    from aisc import aisjson
    from aisc.ir.plan import PlanError, plan_from_json

    hint = "rebuild the bundle with 'aisc bundle'"
    try:
        plan = aisjson.loads(data.decode("utf-8"))
        plan_from_json(plan)
    except (UnicodeDecodeError, ValueError) as e:
        return None, [_d("AISC-BUNDLE-017", bundle, PLAN, f"not a valid plan JSON ({e})", hint)]
    except PlanError as e:
        return None, [_d("AISC-BUNDLE-017", bundle, PLAN, e.to_diagnostic(None).message, hint)]
    try:
        from aisc.compiler import plan_hash
    except ImportError:  # a runtime-only build: the sha256 already vouches for the bytes
        return plan, []
    got = str(plan_hash(plan))
    want = manifest["plan"]["plan_hash"]
    entry = next((e for e in manifest["members"] if e["path"] == PLAN), None)
    if got != want or (entry is not None and entry["spec_hash"] != want):
        return None, [_d("AISC-BUNDLE-014", bundle, PLAN, f"plan hash {got} does not match the manifest's {want}",
                         hint)]
    return plan, []


def _recompile(bundle: str, members: Mapping[str, bytes], manifest: Mapping[str, Any], plan: Mapping[str, Any],
               plan_bytes: bytes) -> tuple[list[Diagnostic], bool]:
    from aisc import __version__

    try:
        from aisc.compiler import Compilation, Options, plan_text
    except ImportError:
        return [], False
    from aisc.diagnostics import CompilationFailed

    comp = manifest["compile"]
    entry = comp.get("entry")
    if not isinstance(entry, str) or entry not in members:
        return [_d("AISC-BUNDLE-016", bundle, MANIFEST, f"compile.entry {entry!r} is not a bundled source",
                   "rebuild the bundle with 'aisc bundle'")], False
    other_version = manifest["aisc_version"] != __version__
    meta = plan.get("meta")
    created = meta.get("created_at") if isinstance(meta, Mapping) else None
    with tempfile.TemporaryDirectory(prefix="aisc-bundle-") as tmp:
        root = os.path.join(tmp, "src")
        for name, data in members.items():
            if not name.startswith(SOURCES):
                continue
            dest = os.path.join(root, *name[len(SOURCES):].split("/"))
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            with open(dest, "wb") as fh:
                fh.write(data)
        pack = comp.get("pack")

        def local(name: str) -> str:
            return os.path.join(root, *name[len(SOURCES):].split("/"))

        try:
            c = Compilation(local(entry), pack=local(pack) if isinstance(pack, str) else None, workspace=root,
                            options=Options(created_at=created if isinstance(created, str) else None))
            text = plan_text(c.plan).encode("utf-8")
        except CompilationFailed as e:
            first = e.diagnostics[0].message if e.diagnostics else "?"
            sev = "warning" if other_version else "error"
            return [_d("AISC-BUNDLE-016", bundle, entry, f"the bundled sources do not compile with aisc {__version__} "
                       f"({len(e.diagnostics)} diagnostic(s); first: {first})",
                       "run 'aisc compile' on the sources to see the diagnostics", sev)], False
    if text == plan_bytes:
        return [], True
    if other_version:
        return [_d("AISC-BUNDLE-018", bundle, PLAN, f"built by aisc {manifest['aisc_version']}; aisc {__version__} "
                   "compiles the sources to a different plan", "the digests still match; rebuild the bundle with "
                   "this version to re-establish the source link", "warning")], False
    return [_d("AISC-BUNDLE-015", bundle, PLAN, "does not match the plan its bundled sources compile to",
               "the plan was replaced or the bundle was forged; rebuild it with 'aisc bundle'")], False


def load_verified_bundle(path: str | os.PathLike[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(plan_json, manifest)`` of a bundle that passes :func:`verify_bundle`; else :class:`BundleError`."""
    v = verify_bundle(path)
    if not v.ok or v.plan is None or v.manifest is None:
        raise BundleError([d for d in v.diagnostics if d.is_error] or list(v.diagnostics))
    return v.plan, v.manifest


install_reprs(__name__)
