"""The external file upload methods (files.getUploadURLExternal, files.completeUploadExternal).

https://docs.slack.dev/messaging/working-with-files: get an upload URL, POST the bytes there, then
complete the upload to share it. The share (the message carrying the file) appears in the channel
asynchronously, seconds later, so a client that looks for it right away may not find it yet; the
emulator posts it after `state.file_share_delay` seconds.
"""

from __future__ import annotations

import functools
from typing import Any

from .access import Args, Handler, conversation, integer, member_of, not_archived, require_messages_tab
from .state import Channel, EmulatorState, SlackError, UploadedFile


def files_get_upload_url_external(st: EmulatorState, a: Args) -> dict[str, Any]:
    """Reserve a file id and hand out this server's upload URL for its bytes."""
    length = integer(a, "length", -1)
    if length < 0:
        raise SlackError("invalid_arguments", ["[ERROR] length must be a non-negative integer"])
    file_id = st.next_id("F")
    name = str(a["filename"])
    st.files[file_id] = UploadedFile(id=file_id, filename=name, title=name, content=b"", length=length)
    return {"upload_url": f"{st.base_url}upload/{file_id}", "file_id": file_id}


def files_complete_upload_external(st: EmulatorState, a: Args) -> dict[str, Any]:
    """Finish uploads; the share message appears in each channel after the share delay."""
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
    refs = [c for c in str(a.get("channels") or a.get("channel_id") or "").split(",") if c]
    chans = [_share_target(st, ref) for ref in refs]
    for f, entry in zip(files, entries, strict=True):
        f.title = str(entry.get("title") or f.filename)
        f.completed = True
    thread_ts = str(a["thread_ts"]) if a.get("thread_ts") else None
    comment = str(a.get("initial_comment") or "")
    for chan in chans:
        st.later(st.file_share_delay, functools.partial(_share, st, chan, files, comment, thread_ts))
    return {"files": [f.to_api(st.base_url) for f in files]}


def _share_target(st: EmulatorState, ref: str) -> Channel:
    """A channel the bot is in (not_in_channel otherwise), or a user ID for the bot's DM with them."""
    if ref[:1] in ("U", "W") and ref in st.users:
        require_messages_tab(st)
        return st.open_im(ref)
    return not_archived(member_of(st, conversation(st, {"channel": ref})))


def _share(
    st: EmulatorState, chan: Channel, files: list[UploadedFile], comment: str, thread: str | None
) -> None:
    """Post the share message (it gets its ts now, when it appears) and record where each file went."""
    with st.lock:
        for f in files:
            f.channel_ids.append(chan.id)
        shared = [f.to_api(st.base_url) for f in files]
        st.post(chan, st.bot_user_id, comment, thread_ts=thread, files=shared)


FILE_METHODS: dict[str, Handler] = {
    "files.getUploadURLExternal": files_get_upload_url_external,
    "files.completeUploadExternal": files_complete_upload_external,
}
