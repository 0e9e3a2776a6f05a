# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The noderange and nodefold filters in a real ansible-playbook run."""

import json
import textwrap


PLAY = """
- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    racks: {rack1: "node[01-04]", rack2: ["node05", "node06"]}
  tasks:
    - ansible.builtin.copy:
        dest: "{{ out }}"
        mode: "0644"
        content: "{{ result | to_json }}"
      vars:
        result:
          expanded: "{{ 'Cexam_[01-03],Cexam_10+1' | labfarm.massclone.noderange }}"
          grouped: "{{ 'rack1,rack2,-node03' | labfarm.massclone.noderange(groups=racks) }}"
          regex: "{{ '/^node0[5-6]' | labfarm.massclone.noderange(universe=['node05', 'node06', 'node50']) }}"
          listed: "{{ ['n[1-2]', 'n2', 'm1'] | labfarm.massclone.noderange }}"
          folded: "{{ ['n03', 'n01', 'n02', 'n07'] | labfarm.massclone.nodefold }}"
          roundtrip: "{{ 'rack[1-2]-node[01-03]' | labfarm.massclone.noderange | labfarm.massclone.nodefold }}"
          group_range: "{{ 'rack1-rack2' | labfarm.massclone.noderange(groups=racks) }}"
          omitted_start: "{{ 'host[:2]' | labfarm.massclone.noderange }}"
          whole_regex: "{{ '/node0' | labfarm.massclone.noderange(universe=['node0', 'node05', 'xnode0']) }}"
          skipped_line: "{{ ('^' ~ listing) | labfarm.massclone.noderange }}"
"""


def test_filters_in_a_play(run, tmp_path):
    play = tmp_path / "play.yml"
    play.write_text(textwrap.dedent(PLAY))
    out = tmp_path / "out.json"
    listing = tmp_path / "nodes.txt"
    listing.write_text("n1\n^/nonexistent/more.txt\nn2\n")
    proc = run("ansible-playbook", "-i", "localhost,", str(play), "-e", "out=%s" % out, "-e", "listing=%s" % listing)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(out.read_text())
    assert result["expanded"] == ["Cexam_01", "Cexam_02", "Cexam_03", "Cexam_10", "Cexam_11"]
    assert result["grouped"] == ["node01", "node02", "node04", "node05", "node06"]
    assert result["regex"] == ["node05", "node06"]
    assert result["listed"] == ["n1", "n2", "m1"]
    assert result["folded"] == "n[01-03,07]"
    assert result["roundtrip"] == "rack[1-2]-node[01-03]"
    # issue 11, defect 6
    assert result["group_range"] == ["node01", "node02", "node03", "node04", "node05", "node06"]
    assert result["omitted_start"] == ["host0", "host1", "host2"]
    assert result["whole_regex"] == ["node0"]
    assert result["skipped_line"] == ["n1", "n2"]


def test_letters_inside_brackets_fail_the_task(run, tmp_path):
    play = tmp_path / "letters.yml"
    play.write_text(textwrap.dedent("""
        - hosts: localhost
          connection: local
          gather_facts: false
          tasks:
            - ansible.builtin.debug:
                msg: "{{ 'n[x-y]' | labfarm.massclone.noderange }}"
        """))
    proc = run("ansible-playbook", "-i", "localhost,", str(play))
    assert proc.returncode != 0
    out = " ".join(proc.stdout.split())
    assert "labfarm.massclone.noderange: invalid noderange 'n[x-y]' at position 2: letters inside brackets" in out


def test_bad_expression_fails_the_task_with_a_clear_message(run, tmp_path):
    play = tmp_path / "bad.yml"
    play.write_text(textwrap.dedent("""
        - hosts: localhost
          connection: local
          gather_facts: false
          tasks:
            - ansible.builtin.debug:
                msg: "{{ 'node[05-130]' | labfarm.massclone.noderange }}"
        """))
    proc = run("ansible-playbook", "-i", "localhost,", str(play))
    assert proc.returncode != 0
    out = " ".join(proc.stdout.split())
    assert "labfarm.massclone.noderange: invalid noderange 'node[05-130]' at position 5" in out
    assert "zero-padded differently" in out
    assert "Traceback" not in proc.stdout + proc.stderr
