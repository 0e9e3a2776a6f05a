# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one MAC rule every job uses (_common.mac)."""

import pytest

from ansible_collections.labfarm.massclone.plugins.module_utils._common import mac


@pytest.mark.parametrize("text", ["ca:03:12:34:00:00", "CA-03-12-34-00-00", "ca03.1234.0000", " Ca:03:12:34:00:00 "])
def test_every_accepted_spelling_is_the_same_address(text):
    assert mac.parse_mac(text) == 0xca0312340000
    assert mac.normalize_mac(text) == "ca:03:12:34:00:00"


@pytest.mark.parametrize("text", ["02:4c:46:00:00", "02:4c:46:00:00:0g", "2:4c:46:0:0:1", "02:4c-46:00:00:01",
                                  "024c46000001", "02:4c:46:00:00:01:02", "", None, 42, ["02:4c:46:00:00:01"]])
def test_what_is_not_a_mac_is_refused_with_the_value_and_the_form(text):
    with pytest.raises(mac.MacError) as err:
        mac.parse_mac(text)
    assert repr(text) in str(err.value) and "aa:bb:cc:dd:ee:ff" in str(err.value)
    assert mac.normalize_mac(text) is None


def test_formats():
    assert mac.format_mac(0x024c46000001) == "02:4c:46:00:00:01"
    assert mac.format_dotted_mac(0xca0312340000) == "ca03.1234.0000"


def test_a_prefix_knows_its_addresses():
    prefix = mac.parse_mac_prefix("02-4C-46")
    assert prefix.text == "02:4c:46" and prefix.octets == (0x02, 0x4c, 0x46)
    assert prefix.base == 0x024c46000000 and prefix.free_bits == 24 and prefix.size == 1 << 24
    assert "02:4c:46:ff:ff:ff" in prefix and "02:4c:47:00:00:00" not in prefix and 0x024c46000010 in prefix
    assert mac.format_mac(prefix.address(5)) == "02:4c:46:00:00:05"
    with pytest.raises(mac.MacError):
        prefix.address(1 << 24)


@pytest.mark.parametrize("text, words", [
    ("03:00:00", "multicast"),
    ("00:16:3e", "not locally administered"),
    ("02:4c:46:00:00:01", "1 to 5 octets"),
    ("02:4c-46", "1 to 5 octets"),
    ("2:4c", "1 to 5 octets"),
    ("", "1 to 5 octets"),
    (None, "1 to 5 octets"),
])
def test_bad_prefixes_are_refused_with_the_reason(text, words):
    with pytest.raises(mac.MacError) as err:
        mac.parse_mac_prefix(text)
    assert words in str(err.value)


def test_a_universal_prefix_only_where_the_caller_allows_it():
    assert mac.parse_mac_prefix("00:16:3e", allow_universal=True).octets == (0x00, 0x16, 0x3e)
    with pytest.raises(mac.MacError, match="multicast"):
        mac.parse_mac_prefix("01:00:5e", allow_universal=True)
