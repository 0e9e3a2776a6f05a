# Copyright (c) 2026, labfarm.massclone contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a host gets by its position in a range (_ranges.columns), as the inventory plugin uses it."""

import pytest

from ansible_collections.labfarm.massclone.plugins.module_utils._ranges.columns import (
    ColumnError, index_columns, ip_column, mac_column,
)


def test_indexes_and_numbers_are_padded_to_the_last():
    assert index_columns(3, 8) == ([8, 9, 10], ["08", "09", "10"])
    assert index_columns(0, 1) == ([], [])


def test_ip_addresses_from_the_offset_or_the_start():
    assert ip_column(3, "10.40.0.0/24") == ["10.40.0.1", "10.40.0.2", "10.40.0.3"]
    assert ip_column(2, "10.40.0.7/24", offset=10) == ["10.40.0.10", "10.40.0.11"]     # host bits ignored
    assert ip_column(2, "192.0.2.0/24", start="192.0.2.100") == ["192.0.2.100", "192.0.2.101"]
    assert ip_column(2, "2001:db8::/64") == ["2001:db8::1", "2001:db8::2"]
    assert ip_column(2, "10.0.0.0/31", offset=0) == ["10.0.0.0", "10.0.0.1"]          # /31: both are hosts
    assert ip_column(0, "10.0.0.0/30") == []


@pytest.mark.parametrize("args, key, words", [
    ((300, "10.0.0.0/24"), "ip.offset", ["300 hosts from 10.0.0.1", "10.0.0.1 to 10.0.0.254, 254 addresses"]),
    ((3, "10.0.0.0/33"), "ip.subnet", ["'10.0.0.0/33' is not a subnet"]),
    ((3, "ten"), "ip.subnet", ["'ten' is not a subnet"]),
    ((3, "10.0.0.0/24", "10.0.0.253"), "ip.start", ["3 hosts from 10.0.0.253"]),
    ((1, "10.0.0.0/24", "10.0.1.1"), "ip.start", ["1 hosts from 10.0.1.1"]),
    ((1, "10.0.0.0/24", "10.0.0"), "ip.start", ["'10.0.0' is not an IP address"]),
    ((1, "10.0.0.0/24", None, 255), "ip.offset", ["from 10.0.0.255"]),
])
def test_ip_errors_name_the_key(args, key, words):
    with pytest.raises(ColumnError) as err:
        ip_column(*args)
    assert err.value.key == key and all(w in str(err.value) for w in words), str(err.value)


def test_macs_from_a_prefix():
    assert mac_column(2, "02:42:0a", 5) == ["02:42:0a:00:00:05", "02:42:0a:00:00:06"]
    assert mac_column(256, "02:00:00:00:00")[-1] == "02:00:00:00:00:ff"


@pytest.mark.parametrize("args, key, words", [
    ((3, "01:00:5e"), "mac.prefix", ["not a locally administered unicast prefix", "multicast"]),
    ((3, "zz"), "mac.prefix", ["not a MAC prefix"]),
    ((300, "02:00:00:00:00"), "mac.offset", ["300 hosts from offset 0", "256 addresses"]),
    ((3, "02:42:0a", -1), "mac.offset", ["must be 0 or more"]),
])
def test_mac_errors_name_the_key(args, key, words):
    with pytest.raises(ColumnError) as err:
        mac_column(*args)
    assert err.value.key == key and all(w in str(err.value) for w in words), str(err.value)
