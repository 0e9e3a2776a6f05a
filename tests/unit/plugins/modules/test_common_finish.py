# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""How every module ends (_common.module): warnings, the diff only with --diff, errors that carry a result."""

import types

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.labfarm.massclone.plugins.module_utils._common.errors import ResultError
from ansible_collections.labfarm.massclone.plugins.module_utils._common.module import exit_with, fail_with


def module_doing(outcome):
    """A module whose main() ends with `outcome`, as the collection's modules do."""
    def main():
        module = AnsibleModule(argument_spec=dict(fail=dict(type="bool", default=False)), supports_check_mode=True)
        if module.params["fail"]:
            fail_with(module, ResultError("clone C2 failed: fix it and run again", created=["C1"],
                                          warnings=["C3 was skipped"], diff={"before": {}, "after": {"C1": 1}}),
                      rolled_back=True)
        exit_with(module, dict(outcome))
    return types.SimpleNamespace(main=main)


RESULT = {"changed": True, "created": ["C1"], "warnings": ["C3 has no snapshot"], "diff": {"before": {}, "after": {"C1": 1}}}


def test_warnings_become_warnings_and_the_diff_is_left_out_without_diff(run_module, warning_texts):
    out = run_module(module_doing(RESULT), {})
    assert out["changed"] and out["created"] == ["C1"] and warning_texts(out) == ["C3 has no snapshot"]
    assert "diff" not in out


def test_the_diff_comes_with_diff(run_module):
    out = run_module(module_doing(RESULT), {"_ansible_diff": True})
    assert out["diff"] == {"before": {}, "after": {"C1": 1}}


def test_an_error_carries_its_result_and_extra_keys(run_module, warning_texts):
    out = run_module(module_doing(RESULT), {"fail": True, "_ansible_diff": True})
    assert out["failed"] and out["msg"] == "clone C2 failed: fix it and run again"
    assert out["created"] == ["C1"] and out["rolled_back"] is True and warning_texts(out) == ["C3 was skipped"]
    assert out["diff"] == {"before": {}, "after": {"C1": 1}}


def test_a_plain_exception_gives_its_text(run_module):
    def main():
        module = AnsibleModule(argument_spec={})
        fail_with(module, ValueError("vms: bad range"))
    out = run_module(types.SimpleNamespace(main=main), {})
    assert out["failed"] and out["msg"] == "vms: bad range"
