# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""`ansible-inventory --list` on a 10,000-host noderange source, beside a native INI range of the same hosts.

Target (issue 2): <= 1.1x the INI time. The runs alternate (INI, noderange, INI, ...) and the median of
each side is compared, so load on this shared machine hits both alike. A third line shows the cost of
the per-host variables (index and zero-padded number), which the INI range cannot express.
Run: make benchmark  (or .venv/bin/python benchmarks/inventory.py)
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)
HOSTS = 10000
ROUNDS = 5
TARGET = 1.1


def run(path, env):
    start = time.perf_counter()
    proc = subprocess.run([os.path.join(BIN, "ansible-inventory"), "-i", path, "--list"],
                          env=env, capture_output=True, text=True, check=True)
    return time.perf_counter() - start, proc.stdout


def main():
    tmp = tempfile.mkdtemp(prefix="labfarm-bench-inv-")
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".venv", "collections"),
               ANSIBLE_HOME=os.path.join(tmp, "home"), ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED="true")
    sources = {
        "INI host[00001:10000]": ("hosts.ini", "[nodes]\nhost[00001:%05d]\n" % HOSTS),
        "noderange host[00001-10000]": ("plain.noderange.yml",
                                        "plugin: labfarm.massclone.noderange\nranges:\n  nodes:\n"
                                        "    range: host[00001-%05d]\n    index_var: ''\n    number_var: ''\n" % HOSTS),
        "noderange + index vars": ("vars.noderange.yml",
                                   "plugin: labfarm.massclone.noderange\nranges:\n  nodes:\n"
                                   "    range: host[00001-%05d]\n" % HOSTS),
    }
    paths = {}
    for label, (name, text) in sources.items():
        paths[label] = os.path.join(tmp, name)
        with open(paths[label], "w") as handle:
            handle.write(text)
    times = dict((label, []) for label in sources)
    outputs = {}
    for _round in range(ROUNDS):
        for label in sources:
            elapsed, outputs[label] = run(paths[label], env)
            times[label].append(elapsed)
    base = "INI host[00001:10000]"
    same = '"host%05d"' % HOSTS in outputs["noderange host[00001-10000]"]
    print("ansible-inventory --list, %d hosts, median of %d alternating runs" % (HOSTS, ROUNDS))
    print("%-30s %9s %7s" % ("source", "median s", "ratio"))
    medians = dict((label, statistics.median(t)) for label, t in times.items())
    for label in sources:
        print("%-30s %9.3f %7.3f" % (label, medians[label], medians[label] / medians[base]))
    ratio = medians["noderange host[00001-10000]"] / medians[base]
    print("target: noderange <= %.1fx INI: %s" % (TARGET, "met" if ratio <= TARGET and same else "NOT met"))
    return 0 if ratio <= TARGET and same else 1


if __name__ == "__main__":
    sys.exit(main())
