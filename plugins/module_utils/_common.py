# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Small helpers shared by the domain modules. Standard library only."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def type_name(value):
    """The builtin type a user wrote: 'str' for a str, and for ansible-core 2.19's tagged subclasses of it too."""
    for klass in type(value).__mro__:
        if klass.__module__ == "builtins" and klass is not object:
            return klass.__name__
    return type(value).__name__
