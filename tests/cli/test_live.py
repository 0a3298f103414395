"""The CLI's own client of the API: what it says when a call cannot start."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from voiceagent.cli.live import CallStartFailed, local_service
from voiceagent.settings import Settings


async def test_a_refused_number_is_explained_in_words(
    make_settings: Callable[..., Settings],
) -> None:
    async with local_service(make_settings()) as service:
        with pytest.raises(CallStartFailed) as refused:
            await service.start_call("+1415")
    said = str(refused.value)
    assert said.startswith("422: '+1415' is not")
    assert "loc" not in said  # the reason in words, not the error's structure
