# -*- coding: utf-8 -*-
# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Private to labfarm.massclone: no API promise; other collections must not import it.
"""Reading range expressions: the grammar, and the names an expression stands for.

One grammar for the range syntaxes lab and cluster people already write:

* Slurm / ClusterShell brackets: ``node[01-10,20]``, ``rack[1-2]-node[01-03]``,
  strides ``[1-10/3]``; leading zeros are kept (``[001-100]``) and a range whose
  ends are padded differently (``[05-130]``) is refused.
* Ansible brackets: ``host[01:50]``, ``host[1:10:2]``, ``host[:5]`` (from 0),
  ``host[a:c]``; no other letters inside brackets (``n[A]``, ``n[x-y]``).
* xCAT noderange: comma union, ``node01-node10``, ``node10+3`` (node10..node13),
  exclusion with a leading ``-`` (``all,-node5``: exclusions are applied after
  every inclusion of the same level, so they win), intersection ``A@B`` (binds
  tighter than the other operators), parentheses, ``^/path/file`` (one range a
  line, ``#`` comments; a line that starts with ``^`` is skipped), ``/regex``
  matched against the whole of each name of a universe, and group names when a
  mapping of groups is given (in ``group1-group3`` and ``group1+2`` too).
* ClusterShell operators ``!`` (difference), ``&`` (intersection) and ``^``
  (symmetric difference); like ``,`` they are applied from left to right with
  equal precedence, as ClusterShell does.

``expand()`` returns names in order of first appearance, without duplicates.
Writing names back as a range is ``fold.py``'s job.

Pure standard library: this runs on managed nodes as well as on the controller.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.labfarm.massclone.plugins.module_utils._common.errors import type_name

DEFAULT_LIMIT = 1000000

# Characters that separate operands at bracket depth 0.
_OPERATORS = ",!&^@"
_NAME_STOP = frozenset(_OPERATORS + "()" + " \t\r\n")

# Splits a name into text, number, text, ...: numbers at the odd positions.
NUM_SPLIT = re.compile(r"(\d+)").split
_PLUS_FORM = re.compile(r"^(.*\D)?(\d+)\+(\d+)$")
_EL_NUM = re.compile(r"^(\d+)$")
_EL_DASH = re.compile(r"^(\d+)\s*-\s*(\d+)(?:\s*/\s*(\d+))?$")
# Ansible's form; an omitted start means 0 (host[:5] is host[0:5]).
_EL_COLON = re.compile(r"^(\d*)\s*:\s*(\d+)(?:\s*:\s*(\d+))?$")
# The only letters a bracket takes: Ansible's [a:c] and [a:e:2]. ClusterShell, Slurm, python-hostlist
# and xCAT refuse letters inside brackets, so n[A] and n[x-y] are refused rather than guessed.
_EL_ALPHA = re.compile(r"^([A-Za-z])\s*:\s*([A-Za-z])(?:\s*:\s*(\d+))?$")
_HAS_LETTER = re.compile(r"[A-Za-z]").search
_MAX_FILE_DEPTH = 8


class NodeRangeError(ValueError):
    """A range expression that cannot be read or would expand too far.

    ``expression``, ``position`` (0-based offset into the expression) and
    ``expected`` are kept as attributes; ``str()`` holds all three.
    """

    def __init__(self, expression, position, expected, source=None):
        self.expression = expression
        self.position = position
        self.expected = expected
        self.source = source
        where = "" if source is None else "%s: " % source
        msg = "%sinvalid noderange %r at position %d: %s" % (where, expression, position, expected)
        super(NodeRangeError, self).__init__(msg)


def is_padded(token):
    """Whether a number token is zero-padded (``007``): its width is then part of the name."""
    return len(token) > 1 and token[0] == "0"


def _format_spec(token):
    """The %-format that writes numbers as wide as ``token`` (padded) or plain."""
    return "%%0%dd" % len(token) if is_padded(token) else "%d"


def _padding_fix(lo, hi):
    width = max(len(lo), len(hi))
    fix = "pad both ends to the same width (%s-%s)" % (lo.zfill(width), hi.zfill(width))
    if is_padded(lo) and len(lo) < len(hi):
        edge = 10 ** len(lo) - 1
        fix += " or split the range where the width changes (%s-%d,%d-%s)" % (lo, edge, edge + 1, hi)
    return fix


class _Bracket:
    """The values of one ``[...]``: pieces that are numeric ranges or lists of strings."""

    __slots__ = ("pieces", "count")

    def __init__(self):
        self.pieces = []
        self.count = 0

    def add_range(self, start, stop, step, fmt):
        self.pieces.append((start, stop + 1, step, fmt))
        self.count += (stop - start) // step + 1

    def add_values(self, values):
        self.pieces.append(list(values))
        self.count += len(values)

    def extend_names(self, out, head, tail):
        """Append head + value + tail for every value: one C-level map per range."""
        for piece in self.pieces:
            if isinstance(piece, tuple):
                start, stop, step, fmt = piece
                template = head.replace("%", "%%") + fmt + tail.replace("%", "%%")
                out.extend(map(template.__mod__, range(start, stop, step)))
            else:
                out.extend([head + v + tail for v in piece])

    def product(self, heads, tail):
        """head + value + tail for every head and value, values formatted once."""
        if len(heads) == 1:
            out = []
            self.extend_names(out, heads[0], tail)
            return out
        values = []
        self.extend_names(values, "", tail)
        out = []
        for head in heads:
            out.extend(map(head.__add__, values))
        return out


class _Unique(list):
    """A list of names already known to hold no duplicates (saves building a dict)."""

    __slots__ = ()


def _as_dict(names):
    return names if isinstance(names, dict) else dict.fromkeys(names)


class _Parser:
    """Recursive descent over one expression; evaluates as it parses."""

    def __init__(self, expr, groups, universe, limit, source=None, depth=0, group_stack=()):
        self.expr = expr
        self.n = len(expr)
        self.pos = 0
        self.groups = groups
        self.universe = universe
        self.limit = limit
        self.source = source
        self.depth = depth
        self.group_stack = group_stack

    # -- helpers ---------------------------------------------------------
    def error(self, expected, position=None):
        return NodeRangeError(self.expr, self.pos if position is None else position, expected, self.source)

    def skip_ws(self):
        expr, n, pos = self.expr, self.n, self.pos
        while pos < n and expr[pos] in " \t\r\n":
            pos += 1
        self.pos = pos

    def check_size(self, count, position):
        if count > self.limit:
            raise self.error(
                "this expands to %d names, more than the limit of %d; narrow the range "
                "or raise the limit" % (count, self.limit), position)

    # -- grammar ---------------------------------------------------------
    def parse(self):
        result = self.parse_sequence()
        if self.pos != self.n:
            raise self.error("unexpected ')' with no '(' to close")
        return result

    def parse_sequence(self):
        """operand-chain (op operand-chain)*, left to right; ',-X' exclusions at the end."""
        self.skip_ws()
        excluded = {}
        if self.at_end_of_sequence():
            raise self.error("expected a node name, a range or '('")
        if self.expr[self.pos] == "-":
            self.pos += 1
            acc = {}
            excluded.update(_as_dict(self.parse_intersection()))
        else:
            acc = self.parse_intersection()
        while True:
            self.skip_ws()
            if self.pos >= self.n or self.expr[self.pos] == ")":
                break
            op = self.expr[self.pos]
            if op not in ",!&^":
                raise self.error("expected an operator (',', '!', '&', '^', '@') or the end, found %r" % op)
            self.pos += 1
            self.skip_ws()
            if self.at_end_of_sequence():
                raise self.error("expected a node name, a range or '(' after %r" % op)
            if op == "," and self.expr[self.pos] == "-":
                self.pos += 1
                excluded.update(_as_dict(self.parse_intersection()))
                continue
            right = _as_dict(self.parse_intersection())
            acc = _as_dict(acc)
            if op == ",":
                acc.update(right)
                self.check_size(len(acc), self.pos)
            elif op == "!":
                acc = dict((k, None) for k in acc if k not in right)
            elif op == "&":
                acc = dict((k, None) for k in acc if k in right)
            else:
                sym = dict((k, None) for k in acc if k not in right)
                sym.update((k, None) for k in right if k not in acc)
                acc = sym
        if excluded:
            acc = dict((k, None) for k in acc if k not in excluded)
        return acc

    def at_end_of_sequence(self):
        return self.pos >= self.n or self.expr[self.pos] in ",)"

    def parse_intersection(self):
        acc = self.parse_operand()
        while True:
            self.skip_ws()
            if self.pos < self.n and self.expr[self.pos] == "@":
                self.pos += 1
                self.skip_ws()
                right = _as_dict(self.parse_operand())
                acc = dict((k, None) for k in acc if k in right)
            else:
                return acc

    def parse_operand(self):
        self.skip_ws()
        if self.pos >= self.n:
            raise self.error("expected a node name, a range or '(' but the expression ended")
        c = self.expr[self.pos]
        if c == "(":
            start = self.pos
            self.pos += 1
            inner = self.parse_sequence()
            if self.pos >= self.n or self.expr[self.pos] != ")":
                raise self.error("expected ')' to close the '(' at position %d" % start)
            self.pos += 1
            return inner
        if c == "^":
            return self.parse_file()
        if c == "/":
            return self.parse_regex()
        if c in _OPERATORS or c == ")" or c == "-":
            raise self.error("expected a node name, a range or '(' but found %r" % c)
        return self.parse_name()

    def parse_file(self):
        start = self.pos
        self.pos += 1
        while self.pos < self.n and self.expr[self.pos] not in _NAME_STOP:
            self.pos += 1
        path = self.expr[start + 1:self.pos]
        if not path:
            raise self.error("expected a file path after '^' (e.g. ^/etc/labfarm/nodes.txt)", start)
        if self.depth >= _MAX_FILE_DEPTH:
            raise self.error("noderange files nest deeper than %d levels (a file includes itself?)" % _MAX_FILE_DEPTH, start)
        try:
            with open(path) as handle:
                lines = handle.read().splitlines()
        except (IOError, OSError) as exc:
            raise self.error("cannot read noderange file %r: %s" % (path, exc.strerror or exc), start)
        acc = {}
        for lineno, line in enumerate(lines, 1):
            line = line.split("#", 1)[0].strip()
            # As xCAT: a line naming another file is skipped, not followed.
            if not line or line.startswith("^"):
                continue
            sub = _Parser(line, self.groups, self.universe, self.limit,
                          source="%s line %d" % (path, lineno), depth=self.depth + 1,
                          group_stack=self.group_stack)
            acc.update(_as_dict(sub.parse()))
            self.check_size(len(acc), start)
        return acc

    def parse_regex(self):
        start = self.pos
        depth = 0
        pos = self.pos + 1
        expr, n = self.expr, self.n
        # A regex runs to the next comma or unmatched ')' outside its own
        # brackets, so '^', '!' and '&' inside it are regex syntax.
        while pos < n:
            c = expr[pos]
            if c == "\\":
                pos += 2
                continue
            if c in "([{":
                depth += 1
            elif c in ")]}":
                if depth == 0:
                    break
                depth -= 1
            elif c == "," and depth == 0:
                break
            pos += 1
        pos = min(pos, n)
        pattern = expr[start + 1:pos].strip()
        self.pos = pos
        if not pattern:
            raise self.error("expected a regular expression after '/'", start)
        try:
            regex = re.compile(pattern)
        except re.error as exc:
            raise self.error("bad regular expression %r: %s" % (pattern, exc), start)
        universe = self.resolve_universe(start)
        # The whole name, as xCAT: /node1 must not also pick node10 or xnode1 for imaging.
        fullmatch = regex.fullmatch
        return dict((name, None) for name in universe if fullmatch(name))

    def resolve_universe(self, position):
        if self.universe is not None:
            return self.universe
        if self.groups:
            names = {}
            for group in self.groups:
                names.update(_as_dict(self.expand_group(group, position)))
            return list(names)
        raise self.error("a regex needs a universe of names to match: pass universe (or groups)", position)

    def parse_name(self):
        start = self.pos
        expr, n = self.expr, self.n
        pos = start
        brackets = []  # (open_pos, close_pos)
        while pos < n:
            c = expr[pos]
            if c == "[":
                close = expr.find("]", pos + 1)
                nested = expr.find("[", pos + 1)
                if close < 0:
                    raise self.error("expected ']' to close the '[' at position %d" % pos, n)
                if 0 <= nested < close:
                    raise self.error("brackets cannot nest: expected ']' before this '['", nested)
                brackets.append((pos, close))
                pos = close + 1
                continue
            if c == "]":
                raise self.error("unexpected ']' with no '[' to close", pos)
            if c in _NAME_STOP:
                break
            pos += 1
        self.pos = pos
        token = expr[start:pos]
        if brackets:
            return self.expand_brackets(token, start, brackets)
        return self.expand_word(token, start)

    def expand_brackets(self, token, start, brackets):
        texts = []
        sets = []
        last = start
        for open_pos, close_pos in brackets:
            texts.append(self.expr[last:open_pos])
            sets.append(self.parse_bracket(open_pos, close_pos))
            last = close_pos + 1
        texts.append(self.expr[last:start + len(token)])
        total = 1
        for bracket in sets:
            total *= bracket.count
        self.check_size(total, start)
        heads = [texts[0]]
        for bracket, text in zip(sets, texts[1:]):
            heads = bracket.product(heads, text)
        # One range per bracket, and every joint text starting with a non-digit
        # (so each number ends where the text begins): the names cannot repeat.
        unique = all(len(b.pieces) == 1 for b in sets) and all(
            t and not t[0].isdigit() for t in texts[1:-1])
        return _Unique(heads) if unique else dict.fromkeys(heads)

    def parse_bracket(self, open_pos, close_pos):
        bracket = _Bracket()
        inner_start = open_pos + 1
        content = self.expr[inner_start:close_pos]
        if not content.strip():
            raise self.error("expected numbers or ranges inside '[]'", inner_start)
        offset = inner_start
        for element in content.split(","):
            epos = offset + len(element) - len(element.lstrip())
            offset += len(element) + 1
            self.parse_element(element.strip(), epos, bracket)
        return bracket

    def parse_element(self, el, epos, bracket):
        if not el:
            raise self.error("expected a number or a range between commas", epos)
        m = _EL_NUM.match(el)
        if m:
            bracket.add_values([el])
            return
        m = _EL_DASH.match(el) or _EL_COLON.match(el)
        if m:
            lo, hi, step = m.group(1) or "0", m.group(2), m.group(3)
            self.add_numeric(bracket, el, epos, lo, hi, step)
            return
        m = _EL_ALPHA.match(el)
        if m:
            lo, hi, step = m.group(1), m.group(2), m.group(3)
            if lo.islower() != hi.islower():
                raise self.error("letter range %r mixes upper and lower case" % el, epos)
            self.add_letters(bracket, el, epos, lo, hi, step)
            return
        if _HAS_LETTER(el):
            raise self.error(
                "letters inside brackets are not a range (found %r): brackets take numbers (1-10, 1-10/2, 01:50, "
                "1:10:2), and letters only as Ansible's letter range [a:c] or [a:e:2]" % el, epos)
        raise self.error(
            "expected a number, a range (1-10, 1-10/2, 01:50, 1:10:2) or a letter range (a:c), found %r" % el, epos)

    def parse_step(self, el, epos, step):
        if step is None:
            return 1
        value = int(step)
        if value <= 0:
            raise self.error("the step of %r must be a positive number" % el, epos)
        return value

    def add_numeric(self, bracket, el, epos, lo, hi, step):
        step = self.parse_step(el, epos, step)
        a, b = int(lo), int(hi)
        if a > b:
            raise self.error("range %r starts after it ends; write it low to high" % el, epos)
        if (is_padded(lo) or is_padded(hi)) and len(lo) != len(hi):
            raise self.error("the ends of range %r are zero-padded differently; %s" % (el, _padding_fix(lo, hi)), epos)
        self.check_size((b - a) // step + 1, epos)
        bracket.add_range(a, b, step, _format_spec(lo))

    def add_letters(self, bracket, el, epos, lo, hi, step):
        step = self.parse_step(el, epos, step)
        a, b = ord(lo), ord(hi)
        if a > b:
            raise self.error("letter range %r starts after it ends; write it low to high" % el, epos)
        bracket.add_values([chr(i) for i in range(a, b + 1, step)])

    def expand_word(self, word, start):
        """A name with no brackets: a group, xCAT's a1-a9 / a1+8 forms, or a literal."""
        if self.groups is not None and word in self.groups:
            return self.expand_group(word, start)
        if word == "all" and self.universe is not None:
            return dict.fromkeys(self.universe)
        if self.universe is not None and word in self._universe_set():
            return {word: None}
        if "-" in word:
            ranged = self.dash_range(word, start)
            if ranged is not None:
                return self.groups_in_range(ranged, start)
        if "+" in word:
            m = _PLUS_FORM.match(word)
            if m:
                prefix, first, extra = m.group(1) or "", m.group(2), int(m.group(3))
                self.check_size(extra + 1, start)
                template = prefix.replace("%", "%%") + _format_spec(first)
                return self.groups_in_range(_Unique(map(template.__mod__, range(int(first), int(first) + extra + 1))), start)
        return {word: None}

    def groups_in_range(self, names, position):
        """xCAT's group1-group3: each name of the range that is a group stands for its members."""
        groups = self.groups
        if not groups or not any(name in groups for name in names):
            return names
        acc = {}
        for name in names:
            if name in groups:
                acc.update(_as_dict(self.expand_group(name, position)))
            else:
                acc[name] = None
            self.check_size(len(acc), position)
        return acc

    def _universe_set(self):
        cached = getattr(self, "_uset", None)
        if cached is None:
            cached = self._uset = frozenset(self.universe)
        return cached

    def dash_range(self, word, start):
        """xCAT's node01-node10: both sides share their text and differ in one number."""
        for idx, c in enumerate(word):
            if c != "-":
                continue
            left, right = word[:idx], word[idx + 1:]
            lparts, rparts = NUM_SPLIT(left), NUM_SPLIT(right)
            if len(lparts) < 2 or lparts[0::2] != rparts[0::2]:
                continue
            diff = [i for i in range(1, len(lparts), 2) if lparts[i] != rparts[i]]
            if len(diff) != 1:
                continue
            i = diff[0]
            lo, hi = lparts[i], rparts[i]
            if int(lo) > int(hi):
                raise self.error("range %r starts after it ends; write it low to high" % word, start)
            if (is_padded(lo) or is_padded(hi)) and len(lo) != len(hi):
                raise self.error("the ends of range %r are zero-padded differently; %s" % (word, _padding_fix(lo, hi)),
                                 start)
            count = int(hi) - int(lo) + 1
            self.check_size(count, start)
            head, tail = "".join(lparts[:i]), "".join(lparts[i + 1:])
            template = head.replace("%", "%%") + _format_spec(lo) + tail.replace("%", "%%")
            return _Unique(map(template.__mod__, range(int(lo), int(hi) + 1)))
        return None

    def expand_group(self, group, position):
        if group in self.group_stack:
            chain = " -> ".join(self.group_stack + (group,))
            raise self.error("group %r includes itself (%s)" % (group, chain), position)
        members = self.groups[group]
        if isinstance(members, str):
            sub = _Parser(members, self.groups, self.universe, self.limit,
                          source="group %r" % group, depth=self.depth,
                          group_stack=self.group_stack + (group,))
            return sub.parse()
        try:
            return dict.fromkeys(str(m) for m in members)
        except TypeError:
            raise self.error("group %r must be a range string or a list of names, not %s"
                             % (group, type_name(members)), position)


def expand(expr, groups=None, universe=None, limit=DEFAULT_LIMIT):
    """Expand a range expression into an ordered list of unique names.

    ``expr`` is a string, or a list of strings whose expansions are joined.
    ``groups`` maps group names to a range string or a list of names.
    ``universe`` is the list of all known names: regexes search it and ``all``
    means it when no group is called ``all``. ``limit`` caps the number of names
    an expression may produce; it is checked before the names are made.
    """
    if limit is None:
        limit = DEFAULT_LIMIT
    if universe is not None and not isinstance(universe, (list, tuple)):
        universe = list(universe)
    if isinstance(expr, (list, tuple)):
        acc = {}
        for item in expr:
            acc.update(dict.fromkeys(expand(item, groups, universe, limit)))
            if len(acc) > limit:
                raise NodeRangeError(str(item), 0, "the list expands to more than the limit of %d names" % limit)
        return list(acc)
    if not isinstance(expr, str):
        raise NodeRangeError(repr(expr), 0, "expected a string, got %s" % type_name(expr))
    if not expr.strip():
        return []
    result = _Parser(expr, groups, universe, limit).parse()
    return list(result) if isinstance(result, dict) else result[:]


def reads_as_itself(name):
    """Whether ``name``, written alone as an expression without groups or universe, means just that name.

    False for a bracket-free name that reads as an xCAT range (``a1-a3``, ``n10+3``) or is refused
    (``n3-n1``). fold() uses it to bracket such names so that they read back literally.
    """
    if "[" in name or ("-" not in name and "+" not in name):
        return True
    try:
        return list(_Parser(name, None, None, DEFAULT_LIMIT).expand_word(name, 0)) == [name]
    except NodeRangeError:
        return False
