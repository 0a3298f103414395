"""Settings read from the environment: defaults, and a wrong value named at start-up."""

from __future__ import annotations

import pytest

from voiceagent.errors import ConfigError
from voiceagent.settings import get_settings


def test_default_region_is_us_and_any_case_is_read() -> None:
    assert get_settings(_env_file=None).default_region == "US"
    assert get_settings(_env_file=None, default_region=" gb ").default_region == "GB"


@pytest.mark.parametrize("value", ["XX", "USA", "", "1"])
def test_an_unknown_default_region_fails_at_start_up_naming_the_variable(value: str) -> None:
    with pytest.raises(ConfigError, match=r"^DEFAULT_REGION: .*two-letter region code"):
        get_settings(_env_file=None, default_region=value)
