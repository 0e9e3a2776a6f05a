# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""The ring's errors: one for the user, and the two ways a link can fail, which make a node bypass
its downstream or wait for another upstream."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class RingError(Exception):
    """A ring failure with a message for the user."""


class LinkLost(RingError):
    """The peer of a link closed it, reset it, or sent something that is not a frame of this session."""


class Stalled(RingError):
    """The peer of a link made no progress for the session's timeout."""
