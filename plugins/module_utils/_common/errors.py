# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""Errors every domain uses, and how a user's value is named in a message. Standard library only."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def type_name(value):
    """The builtin type a user wrote: 'str' for a str, and for ansible-core 2.19's tagged subclasses of it too."""
    for klass in type(value).__mro__:
        if klass.__module__ == "builtins" and klass is not object:
            return klass.__name__
    return type(value).__name__


class ResultError(Exception):
    """A user-facing failure that carries a result: ``msg`` says what failed and how to fix it, ``result``
    what exists now (what was created, what was rolled back), returned beside the error so a rerun can converge.
    Domains subclass it (ZfsCloneError, FarmError) so that callers can still tell them apart."""

    def __init__(self, msg, **result):
        super(ResultError, self).__init__(msg)
        self.msg = msg
        self.result = result
