# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""The errors of the ZFS layer of zfs_clone (a failed zfs command is cli.ZfsCommandError). Standard library only."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.labfarm.massclone.plugins.module_utils._common.errors import ResultError


class ZfsError(Exception):
    """Base of this layer's errors; ``str()`` is a message for the user."""


class ZfsNameError(ZfsError, ValueError):
    """A dataset, snapshot or property name that ZFS would refuse, or an option that cannot be used."""


class ZfsCloneError(ResultError, ZfsError):
    """A batch that cannot run or failed; ``result`` holds what the module returns with the error."""
