"""The emulator's external file upload methods (files.getUploadURLExternal, files.completeUploadExternal)."""

from __future__ import annotations

from typing import Any

from .methods import Args, Handler, _int, _writable
from .state import EmulatorState, SlackError, UploadedFile


def files_get_upload_url_external(st: EmulatorState, a: Args) -> dict[str, Any]:
    """Reserve a file id and hand out this server's upload URL for its bytes."""
    length = _int(a, "length", -1)
    if length < 0:
        raise SlackError("invalid_arguments", ["[ERROR] length must be a non-negative integer"])
    file_id = st.next_id("F")
    name = str(a["filename"])
    st.files[file_id] = UploadedFile(id=file_id, filename=name, title=name, content=b"", length=length)
    return {"upload_url": f"{st.base_url}upload/{file_id}", "file_id": file_id}


def files_complete_upload_external(st: EmulatorState, a: Args) -> dict[str, Any]:
    """Finish uploads and share them to a channel as one message carrying the files."""
    entries = a["files"]
    if not isinstance(entries, list) or not all(isinstance(e, dict) and e.get("id") for e in entries):
        raise SlackError("invalid_arguments", ["[ERROR] files must be a JSON array of {id, title}"])
    files: list[UploadedFile] = []
    for entry in entries:
        f = st.files.get(str(entry["id"]))
        if f is None:
            raise SlackError("file_not_found")
        if not f.uploaded or len(f.content) != f.length:
            msg = f"[ERROR] uploaded {len(f.content)} bytes for {f.id}, but {f.length} were announced"
            raise SlackError("file_update_failed", [msg])
        files.append(f)
    chans = [
        st.resolve_channel(c) for c in str(a.get("channels") or a.get("channel_id") or "").split(",") if c
    ]
    for chan in chans:
        _writable(st, chan)
    for f, entry in zip(files, entries, strict=True):
        f.title = str(entry.get("title") or f.filename)
        f.completed = True
    thread_ts = str(a["thread_ts"]) if a.get("thread_ts") else None
    for chan in chans:
        for f in files:
            f.channel_ids.append(chan.id)
        shared = [f.to_api(st.base_url) for f in files]
        st.post(chan, st.bot_user_id, str(a.get("initial_comment") or ""), thread_ts=thread_ts, files=shared)
    return {"files": [f.to_api(st.base_url) for f in files]}


FILE_METHODS: dict[str, Handler] = {
    "files.getUploadURLExternal": files_get_upload_url_external,
    "files.completeUploadExternal": files_complete_upload_external,
}
