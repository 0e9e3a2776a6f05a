# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""The one rule for a module option that names a batch: a range expression, or a list of names.

One string is a range expression of the collection's grammar (``Cexam_[01-40]``, ``lab[01-40],-lab13``);
an AWX survey's multi-line text or a comma-separated string is a range expression too. A list is taken
literally, name by name. Either way the names come back in order with duplicates dropped (in linear
time: batches reach tens of thousands). Raises NamesError, a ValueError naming the option and the fix.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.labfarm.massclone.plugins.module_utils._common.errors import type_name
from ansible_collections.labfarm.massclone.plugins.module_utils._ranges.expand import NodeRangeError, expand


class NamesError(ValueError):
    """A batch's names that cannot be read; the message names the option and says how to write it."""


def names_from(value, option, limit, example, allow_empty=False):
    """The names ``value`` stands for. ``example`` is a range to show in errors (``lab[01-40]``);
    ``limit`` bounds a range's size; an empty list or blank string is an error unless ``allow_empty``."""
    if isinstance(value, str):
        if not value.strip():
            names = []
        else:
            try:
                names = expand(value, limit=limit)
            except NodeRangeError as exc:
                raise NamesError("%s: %s. Write a range such as %s or a list of names." % (option, exc, example))
    elif isinstance(value, (list, tuple)):
        for index, name in enumerate(value):
            if not isinstance(name, str):
                raise NamesError("%s[%d] is %r (%s): names are strings; quote it in YAML."
                                 % (option, index, name, type_name(name)))
        names = list(dict.fromkeys(value))
    else:
        raise NamesError("%s must be a range expression such as %s or a list of names, got %s."
                         % (option, example, type_name(value)))
    if len(names) > limit:
        raise NamesError("%s names %d items, more than the limit of %d: split the batch." % (option, len(names), limit))
    if not names and not allow_empty:
        raise NamesError("%s names nothing: give a range such as %s or a list of names." % (option, example))
    return names
