# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""Writing names as a range: fold, and the order it writes them in (nodesort).

``fold()`` returns the canonical bracket form of a set of names; its expansion
is the names sorted by ``sort_key()`` (pattern, then indexes). What it refuses
and where it is not the shortest form: docs/noderange.md.

Pure standard library: this runs on managed nodes as well as on the controller.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import itertools
import re

from ansible_collections.labfarm.massclone.plugins.module_utils._common.errors import type_name
from ansible_collections.labfarm.massclone.plugins.module_utils._common.numbers import runs
from ansible_collections.labfarm.massclone.plugins.module_utils._ranges.expand import (
    NUM_SPLIT,
    NodeRangeError,
    is_padded,
    reads_as_itself,
)


def sort_key(name):
    """Order names by their text pattern, then by the value (then width) of each number."""
    parts = NUM_SPLIT(name)
    return (tuple(parts[0::2]), tuple((int(t), len(t)) for t in parts[1::2]))


def _token_key(token):
    return (int(token), len(token))


def _rangeset(tokens):
    """Sorted unique number tokens -> 'a-b,c' (ranges keep each token's own text)."""
    out = []
    i, n = 0, len(tokens)
    while i < n:
        first = tokens[i]
        width, padded = len(first), is_padded(first)
        value = int(first)
        j = i + 1
        while j < n:
            token = tokens[j]
            nxt = value + 1
            if int(token) != nxt:
                break
            if padded:
                if len(token) != width or token != "%0*d" % (width, nxt):
                    break
            elif token != str(nxt):
                break
            value = nxt
            j += 1
        last = tokens[j - 1]
        out.append(first if j - 1 == i else first + "-" + last)
        i = j
    return out


def _fold_pattern(texts, rows):
    """Fold the number tuples of one text pattern, keeping the sorted order.

    Works from the last dimension up: equal sub-folds of consecutive values of
    one dimension merge into one bracket. A sub-fold that needs several strings
    is never merged, because the cross product would expand out of order.
    """
    dims = len(texts) - 1

    def level(rows, d):
        # rows are sorted; returns a list of (ranges, sub) where sub is a tuple
        # of the same shape for the next dimension (empty at the last one).
        groups = []
        for token, grp in itertools.groupby(rows, key=lambda r: r[d]):
            sub = level(list(grp), d + 1) if d + 1 < dims else ()
            groups.append((token, sub))
        segments = []
        for token, sub in groups:
            single = len(sub) <= 1 and (not sub or sub[0][2])
            if segments and segments[-1][1] == sub and single and segments[-1][2]:
                segments[-1][0].append(token)
            else:
                segments.append(([token], sub, single))
        return tuple((tuple(toks), sub, single) for toks, sub, single in segments)

    def render(segments, d):
        out = []
        for toks, sub, _single in segments:
            head = _bracket(_ranges(list(toks)))
            tails = render(sub, d + 1) if sub else [""]
            text = texts[d + 1]
            out.extend(head + text + tail for tail in tails)
        return out

    rows = sorted(rows, key=lambda r: tuple(_token_key(t) for t in r))
    return [texts[0] + s for s in render(level(rows, 0), 0)]


def _escape(name):
    """Write one number of ``name`` in brackets so it reads literally."""
    parts = NUM_SPLIT(name)
    parts[-2] = "[" + parts[-2] + "]"
    return "".join(parts)


# Over names joined by newlines: [^\d\n] keeps every match inside one name.
_ONE_NUMBER = re.compile(r"^([^\d\n]*)(\d+)([^\d\n]*)$", re.M)
_NOT_ONE_NUMBER = re.compile(r"^(?:[^\d\n]*|[^\d\n]*\d+[^\d\n]+\d.*)$", re.M)
_BAD_CHAR = re.compile(r"[,!&^@()\[\] \t\r\f\v]|\n[-/]|^[-/]")


def _check_names(names):
    """Unique names, refused with a clear error when one cannot be written as a range."""
    try:
        unique = set(names)
        joined = "\n".join(unique)
    except TypeError:
        bad = next(n for n in names if not isinstance(n, str))
        raise NodeRangeError(repr(bad), 0, "fold() takes names (strings), got %s" % type_name(bad))
    if not unique:
        return unique, joined
    # Checked on the joined text in one pass: 100,000 names cost milliseconds.
    if joined.count("\n") != len(unique) - 1:
        bad = next(n for n in unique if "\n" in n)
        raise NodeRangeError(bad, bad.index("\n"), "a node name cannot hold a line break")
    if "" in unique:
        raise NodeRangeError("", 0, "fold() cannot fold an empty name")
    m = _BAD_CHAR.search(joined)
    if m:
        at = m.start() + 1 if joined[m.start()] == "\n" else m.start()
        line_start = joined.rfind("\n", 0, at) + 1
        line_end = joined.find("\n", at)
        bad = joined[line_start:None if line_end < 0 else line_end]
        pos = at - line_start
        raise NodeRangeError(bad, pos, "a node name cannot hold %r (it is range syntax)" % bad[pos])
    return unique, joined


def _uniform_format(tokens):
    """The one %-format that writes every token, or None when widths are mixed."""
    widths = set(map(len, tokens))
    if len(widths) == 1:
        # Same width: each token is its value written that wide.
        return "%%0%dd" % widths.pop()
    if all(t == "0" for t in tokens if t[0] == "0"):
        return "%d"
    return None


def _ranges(tokens):
    """Unique number tokens of one dimension -> range texts in sort order (['01-09/2', '12'])."""
    fmt = _uniform_format(tokens)
    if fmt is None:
        # Mixed widths (node1 and node01 together): the generic walk, without strides.
        return _rangeset(sorted(tokens, key=_token_key))
    out = []
    for first, last, step in runs(sorted(map(int, tokens)), steps=True):
        if first == last:
            out.append(fmt % first)
        elif step == 1:
            out.append((fmt % first) + "-" + (fmt % last))
        else:
            out.append("%s-%s/%d" % (fmt % first, fmt % last, step))
    return out


def _bracket(ranges):
    if len(ranges) == 1 and "-" not in ranges[0]:
        return ranges[0]
    return "[" + ",".join(ranges) + "]"


def _fold_tokens(tokens):
    """Fold the number tokens of a one-number pattern into bracket text ('5' or '[1-3,7]')."""
    return _bracket(_ranges(tokens))


def _single_pattern(joined, count):
    """(head, tokens, tail) when every name is head + one number + tail, else None.

    One split of the joined names: between two numbers lies tail + newline + head.
    """
    parts = NUM_SPLIT(joined)
    if len(parts) != 2 * count + 1:
        return None
    head, tail = parts[0], parts[-1]
    if "\n" in head or "\n" in tail:
        return None
    joints = set(parts[2:-1:2])
    if joints and joints != set([tail + "\n" + head]):
        return None
    return head, parts[1::2], tail


def _fold_patterns(joined, count):
    """Fold names of several text patterns (the general path of fold())."""
    patterns = {}
    triples = _ONE_NUMBER.findall(joined)
    if len(triples) < count:
        for name in _NOT_ONE_NUMBER.findall(joined):
            parts = NUM_SPLIT(name)
            patterns.setdefault(tuple(parts[0::2]), []).append(tuple(parts[1::2]))
    one = {}
    for head, token, tail in triples:
        one.setdefault((head, tail), []).append(token)
    out = []
    for texts in sorted(list(patterns) + list(one)):
        if texts in one:
            out.append(texts[0] + _fold_tokens(one[texts]) + texts[1])
        elif len(texts) == 1:
            out.append(texts[0])
        else:
            out.extend(_fold_pattern(texts, patterns[texts]))
    return out


def fold(names):
    """Fold names into the canonical range string (shortest in the common cases; docs/noderange.md says where not).

    ``expand(fold(names)) == sorted(set(names), key=sort_key)``. Raises NodeRangeError for a name that is not a
    string, is empty, or holds range syntax (``,!&^@()[]``, white space, a leading ``-`` or ``/``).
    """
    if isinstance(names, str):
        names = [names]
    unique, joined = _check_names(names)
    if not unique:
        return ""
    single = _single_pattern(joined, len(unique))
    if single is not None:
        head, tokens, tail = single
        out = [head + _fold_tokens(tokens) + tail]
    else:
        out = _fold_patterns(joined, len(unique))
    return ",".join(s if reads_as_itself(s) else _escape(s) for s in out)


def nodesort(names):
    """Unique names in the order fold() and ClusterShell print them."""
    return sorted(set(names), key=sort_key)
