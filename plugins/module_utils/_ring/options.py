# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""THE checks of a ring node's parameters, used by the ring_copy module, by the Receiver and Sender
classes, and by the disk_ring role's plugins. Pure: nothing here reads a file or opens a socket (what
only the node itself can check, such as a src that exists or a device in use, is in ``items``).

* ``check_session_options(params)``: the parameters of one node, as the module takes them (a mapping;
  strings for numbers are fine) -> the same, typed, with every default filled in; RingError naming
  every bad option at once otherwise.
* ``session_option_errors(params)``: the same checks on parameters already typed (the module's),
  as a list of messages.
* The rules one by one, for callers that label values their own way (``option`` names the value in
  the message): ``key_bytes``, ``parse_address``, ``chain_errors``, ``item_errors``, ``chunk_errors``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.labfarm.massclone.plugins.module_utils._common.numbers import parse_size
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.errors import RingError
from ansible_collections.labfarm.massclone.plugins.module_utils._ring.wire import CHECKSUMS, COMPRESSIONS, MAX_CHUNK

KEY_MIN_LENGTH = 16
MIN_CHUNK = 65536
MIN_REPLAY_MIB = 16
FORMATS = ("raw", "tar", "tar.gz", "tar.zst", "cpio")

ARGUMENT_SPEC = dict(
    mode=dict(type="str", choices=["send", "receive"], required=True),
    session=dict(type="str", required=True),
    key=dict(type="str", required=True, no_log=True),
    listen=dict(type="str"),
    chain=dict(type="list", elements="str", default=[]),
    items=dict(type="list", elements="dict", required=True, options=dict(
        name=dict(type="str", required=True),
        src=dict(type="path"),
        format=dict(type="str", choices=list(FORMATS), default="raw"),
        dest=dict(type="path"),
        filesystem_aware=dict(type="bool"),
    )),
    timeout=dict(type="float", default=30),
    wait_timeout=dict(type="float", default=600),
    compress=dict(type="str", choices=list(COMPRESSIONS), default="none"),
    checksum=dict(type="str", choices=["auto"] + list(CHECKSUMS), default="auto"),
    chunk_size=dict(type="int", default=4 << 20),
    sparse=dict(type="bool", default=True),
    rate_limit=dict(type="str", default="0"),
    filesystem_aware=dict(type="bool", default=True),
    force=dict(type="bool", default=False),
    direct=dict(type="bool", default=True),
    replay_buffer=dict(type="int", default=256),
    state_dir=dict(type="path", default="/var/tmp/labfarm-ring"),
    node_name=dict(type="str"),
    progress_file=dict(type="path"),
    allow_failures=dict(type="bool", default=False),
)


def raise_errors(errors):
    """RingError with every message of ``errors``, when there is any."""
    if errors:
        raise RingError("; ".join(errors))


def key_bytes(key, option="key"):
    """The session key as bytes; RingError when it is shorter than 16 characters."""
    if not key or len(key) < KEY_MIN_LENGTH:
        raise RingError("%s must be at least %d characters (the role makes a random one per session)" % (option, KEY_MIN_LENGTH))
    return key.encode("utf-8")


def parse_address(text, what="listen"):
    """'host:port' or '[v6]:port' -> (host, port), with a message that names the bad value."""
    if not isinstance(text, str) or ":" not in text:
        raise RingError("%s %r is not host:port (for example 10.0.0.1:7010)" % (what, text))
    host, dummy, port = text.rpartition(":")
    host = host.strip("[]")
    try:
        port = int(port)
    except ValueError:
        port = -1
    if not host or not 0 <= port <= 65535:
        raise RingError("%s %r is not host:port (for example 10.0.0.1:7010)" % (what, text))
    return host, port


def chain_errors(chain, listen=None, send=False):
    """What is wrong with a node's listen address and chain: addresses that are not host:port, an
    empty chain at the source, the node's own address in its chain, an address listed twice."""
    errors = []
    for what, value in [("listen", listen)] + [("chain entry", entry) for entry in chain]:
        if value:
            try:
                parse_address(value, what)
            except RingError as exc:
                errors.append(str(exc))
    if send and not chain:
        errors.append("chain is empty: list the receivers' address:port in ring order")
    if listen and listen in chain:
        errors.append("chain contains this node's own listen address %s" % listen)
    twice = sorted(entry for entry in set(chain) if chain.count(entry) > 1)
    if twice:
        errors.append("chain lists an address twice: %s" % ", ".join(twice))
    return errors


def item_errors(items, send):
    """What is wrong with a node's items ([{name, src, dest}]): none, a name given twice, a src on a
    receiver or a dest at the source, a dest that is not an absolute path."""
    errors = []
    names = [item["name"] for item in items]
    if not names:
        errors.append("items is empty")
    twice = sorted(set(name for name in names if names.count(name) > 1))
    if twice:
        errors.append("item names given twice: %s" % ", ".join(twice))
    for item in items:
        if send:
            if not item.get("src"):
                errors.append("item %s: src is required with mode: send" % item["name"])
            if item.get("dest"):
                errors.append("item %s: dest is for receivers; the source gives src" % item["name"])
        else:
            if not item.get("dest"):
                errors.append("item %s: dest is required with mode: receive" % item["name"])
            elif not isinstance(item["dest"], str) or not item["dest"].startswith("/"):
                errors.append("item %s: dest %s must be an absolute path" % (item["name"], item["dest"]))
            if item.get("src"):
                errors.append("item %s: src is for the source; a receiver gives dest" % item["name"])
    return errors


def chunk_errors(chunk, option="chunk_size"):
    """A chunk size must be a multiple of 4096 from 64 KiB to 64 MiB (the frame limit)."""
    if MIN_CHUNK <= chunk <= MAX_CHUNK and chunk % 4096 == 0:
        return []
    return ["%s %d must be a multiple of 4096 from %d to %d" % (option, chunk, MIN_CHUNK, MAX_CHUNK)]


def rate_limit_bytes(value, option="rate_limit"):
    """rate_limit as given ("0", 41943040, "40M") -> bytes per second; RingError naming the option."""
    try:
        return parse_size(value, option, "Give 0 for no limit, or bytes per second such as 40M.")
    except ValueError as exc:
        raise RingError(str(exc))


def rate_errors(rate, chunk, timeout, option="rate_limit"):
    """A limit so low that one chunk takes half the link timeout would look like a dead link downstream."""
    if rate and chunk / float(rate) > timeout / 2.0:
        least = int(2 * chunk / float(timeout)) + 1
        return ["%s %d bytes/s sends one chunk of %d bytes every %.0f s, which the next node would take for a dead "
                "link (timeout %s s): give at least %d bytes/s, a smaller chunk_size, or a longer timeout"
                % (option, rate, chunk, chunk / float(rate), timeout, least)]
    return []


def session_option_errors(params):
    """Every problem with one node's typed parameters (the module's), as messages that name the option."""
    errors = []
    send = params["mode"] == "send"
    try:
        key_bytes(params["key"])
    except RingError as exc:
        errors.append(str(exc))
    if not send and not params["listen"]:
        errors.append("listen is required with mode: receive (the address:port the upstream connects to)")
    errors += chain_errors(params["chain"], params["listen"], send)
    errors += item_errors(params["items"], send)
    if send:
        errors += chunk_errors(params["chunk_size"])
        try:
            errors += rate_errors(rate_limit_bytes(params["rate_limit"]), params["chunk_size"], params["timeout"])
        except RingError as exc:
            errors.append(str(exc))
    if params["timeout"] <= 0 or params["wait_timeout"] <= 0:
        errors.append("timeout and wait_timeout must be > 0 seconds")
    if params["replay_buffer"] < MIN_REPLAY_MIB:
        errors.append("replay_buffer %d must be at least %d (MiB)" % (params["replay_buffer"], MIN_REPLAY_MIB))
    return errors


def check_session_options(params):
    """One node's parameters as ring_copy takes them -> the same, typed (AWX's strings for numbers are
    fine), every default filled in; RingError that names every bad option otherwise. Pure: the
    node-local checks (src exists, dest's directory, device in use) are items.local_errors."""
    result = ArgumentSpecValidator(ARGUMENT_SPEC).validate(dict(params))
    errors = list(result.error_messages)
    if not errors:
        errors = session_option_errors(result.validated_parameters)
    raise_errors(errors)
    return result.validated_parameters
